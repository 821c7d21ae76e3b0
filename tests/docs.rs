//! The man pages in `man/` and completions in `completions/` are generated from the clap
//! definitions; this test fails when the checked-in copies are stale. Regenerate them with
//! `MISSIVE_BLESS=1 cargo test --test integration docs`, then review the diff.

use std::collections::BTreeMap;
use std::path::Path;

use clap::CommandFactory;
use clap_complete::Shell;
use missive::cli::Cli;

fn man_pages() -> BTreeMap<String, Vec<u8>> {
    let mut pages = BTreeMap::new();
    fn add(pages: &mut BTreeMap<String, Vec<u8>>, command: clap::Command, prefix: &str) {
        let name = if prefix.is_empty() {
            command.get_name().to_string()
        } else {
            format!("{prefix}-{}", command.get_name())
        };
        let mut page = Vec::new();
        clap_mangen::Man::new(command.clone().name(name.clone()))
            .render(&mut page)
            .expect("man page renders");
        pages.insert(format!("{name}.1"), page);
        for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
            add(pages, sub.clone(), &name);
        }
    }
    let mut command = Cli::command();
    command.build();
    add(&mut pages, command, "");
    pages
}

fn completions() -> BTreeMap<String, Vec<u8>> {
    [
        (Shell::Bash, "missive.bash"),
        (Shell::Zsh, "_missive"),
        (Shell::Fish, "missive.fish"),
    ]
    .into_iter()
    .map(|(shell, file)| {
        let mut out = Vec::new();
        clap_complete::generate(shell, &mut Cli::command(), "missive", &mut out);
        (file.to_string(), out)
    })
    .collect()
}

fn check(dir: &str, expected: BTreeMap<String, Vec<u8>>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    if std::env::var_os("MISSIVE_BLESS").is_some() {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for (name, bytes) in &expected {
            std::fs::write(dir.join(name), bytes).unwrap();
        }
    }
    let mut found = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let entry = entry.unwrap();
        found.insert(
            entry.file_name().to_string_lossy().into_owned(),
            std::fs::read(entry.path()).unwrap(),
        );
    }
    assert_eq!(
        found.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>(),
        "files in {} differ; regenerate with MISSIVE_BLESS=1",
        dir.display()
    );
    for (name, bytes) in &expected {
        assert!(
            &found[name] == bytes,
            "{}/{name} is stale; regenerate with MISSIVE_BLESS=1 cargo test --test integration docs",
            dir.display()
        );
    }
}

#[test]
fn man_pages_are_current() {
    let pages = man_pages();
    assert!(pages.contains_key("missive-fetch.1") && pages.contains_key("missive-config-check.1"));
    let fetch = String::from_utf8_lossy(&pages["missive-fetch.1"]).into_owned();
    assert!(
        fetch.contains("EXIT STATUS") && fetch.contains("schema message"),
        "records documented"
    );
    check("man", pages);
}

#[test]
fn completions_are_current() {
    check("completions", completions());
}
