//! The documented pipelines on one store (issue 16): every stage writing the store waits for
//! the others rather than failing, run after run, with output large enough to fill a pipe.

use std::path::Path;
use std::process::{Child, Command, Stdio};

use crate::support::{Home, mail};

/// Messages in the Maildir: their records are several times a pipe's buffer (64 KiB), so
/// fetch blocks on its output while the next stage works.
const MESSAGES: usize = 60;
const RUNS: usize = 50;

/// `missive` with `home`'s store, as [`Home::missive`] sets it, for chaining by hand.
fn missive(home: &Home, args: &[&str]) -> Command {
    let mut command = Command::new(assert_cmd::cargo::cargo_bin("missive"));
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env("XDG_DATA_HOME", home.path().join("data"))
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("MISSIVE_STORE", home.store())
        .current_dir(home.path())
        .args(args)
        .stderr(Stdio::piped());
    command
}

/// Runs `fetch maildir:MAILDIR | stage | stage …` on a fresh store; each stage's status and
/// stderr, and the last one's output lines.
fn pipeline(maildir: &Path, stages: &[&[&str]]) -> (Vec<(i32, String)>, usize) {
    let home = Home::new();
    let source = format!("maildir:{}", maildir.display());
    let mut children: Vec<Child> = Vec::new();
    let mut first = missive(&home, &["fetch", &source]);
    first.stdin(Stdio::null()).stdout(Stdio::piped());
    children.push(first.spawn().unwrap());
    for stage in stages {
        let input = children.last_mut().unwrap().stdout.take().unwrap();
        let mut command = missive(&home, stage);
        command.stdin(input).stdout(Stdio::piped());
        children.push(command.spawn().unwrap());
    }
    let last = children.pop().unwrap().wait_with_output().unwrap();
    let mut results: Vec<(i32, String)> = children
        .into_iter()
        .map(|child| {
            let output = child.wait_with_output().unwrap();
            (
                output.status.code().unwrap_or(-1),
                String::from_utf8_lossy(&output.stderr).into_owned(),
            )
        })
        .collect();
    results.push((
        last.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&last.stderr).into_owned(),
    ));
    let lines = last.stdout.split(|&b| b == b'\n').filter(|l| !l.is_empty());
    (results, lines.count())
}

#[test]
fn each_documented_pipeline_on_one_store_works_every_time() {
    let home = Home::new();
    for n in 0..MESSAGES {
        home.write(
            &format!("Mail/cur/{n}.M{n}P1.test:2,S"),
            &mail(
                &format!("Message-ID: <m{n}@example.org>\n"),
                &format!("word{n} {}\n", "some text to fill a pipe ".repeat(200)),
            ),
        );
    }
    std::fs::create_dir_all(home.path().join("Mail/new")).unwrap();
    let maildir = home.path().join("Mail");
    let pipelines: &[&[&[&str]]] = &[
        &[&["score"]],
        &[&["thread"]],
        &[&["index"]],
        &[&["keys", "learn"]],
        &[&["score"], &["thread"], &["index"]],
    ];
    for stages in pipelines {
        for run in 0..RUNS {
            let (results, lines) = pipeline(&maildir, stages);
            for (stage, (code, stderr)) in results.iter().enumerate() {
                assert_eq!(
                    *code, 0,
                    "run {run} of fetch | {stages:?}, stage {stage}: {stderr}"
                );
            }
            let expected = if stages.last() == Some(&&["index"][..]) {
                0
            } else {
                MESSAGES
            };
            assert_eq!(lines, expected, "run {run} of fetch | {stages:?}");
        }
    }
}
