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
        for sub in command.get_subcommands() {
            add(pages, sub.clone(), &name);
        }
    }
    // `missive help` is no page of its own: without this every page listing subcommands
    // would point at a `missive-help(1)` that does not exist.
    fn without_help(command: clap::Command) -> clap::Command {
        command
            .disable_help_subcommand(true)
            .mut_subcommands(without_help)
    }
    let mut command = without_help(Cli::command());
    command.build();
    add(&mut pages, command, "");
    pages
}

/// The kinds a SOURCE begins with, which clap cannot offer for an argument that takes any
/// value; the completion scripts add them, and the account names of the config
/// (`[accounts.NAME]` of `$MISSIVE_CONFIG` or the default file), read as they complete.
const SOURCE_KINDS: &str = "maildir: mbox: eml: jsonl: imap:// mastodon:// twitter-archive: facebook-export: signal: matrix-export:";

/// Prints the account names of the config, one a line (POSIX sh, for bash and zsh).
const ACCOUNTS_SH: &str = r#"sed -n 's/^[[:space:]]*\[accounts\.\([^].]*\)\][[:space:]]*$/\1/p' "${MISSIVE_CONFIG:-${XDG_CONFIG_HOME:-$HOME/.config}/missive/config.toml}" 2>/dev/null | tr -d '"'"#;

/// Added to bash's script: sources and accounts for `fetch` and `sync`, no space after a
/// kind so its path follows.
fn bash_extra() -> String {
    format!(
        r#"
# Source kinds and the config's account names (added by tests/docs.rs).
_missive_accounts() {{
    {ACCOUNTS_SH}
}}
_missive_sources() {{
    _missive "$@"
    local cur="${{COMP_WORDS[COMP_CWORD]}}" prev="${{COMP_WORDS[COMP_CWORD-1]}}"
    [[ $cur == -* || $prev == --@(store|config|format|errors) || $prev == : ]] && return
    case " ${{COMP_WORDS[*]:1:COMP_CWORD-1}} " in
        *" fetch "*) COMPREPLY+=($(compgen -W "{SOURCE_KINDS} $(_missive_accounts)" -- "$cur")) ;;
        *" sync "*) COMPREPLY+=($(compgen -W "$(_missive_accounts)" -- "$cur")) ;;
        *) return ;;
    esac
    [[ ${{#COMPREPLY[@]}} -eq 1 && ${{COMPREPLY[0]}} == *[:/] ]] && compopt -o nospace
}}
complete -F _missive_sources -o bashdefault -o default missive
"#
    )
}

/// Added to fish's script.
fn fish_extra() -> String {
    format!(
        r#"
# Source kinds and the config's account names (added by tests/docs.rs).
function __missive_accounts
    set -l config $MISSIVE_CONFIG
    if test -z "$config"
        set -q XDG_CONFIG_HOME; and set config $XDG_CONFIG_HOME/missive/config.toml; or set config $HOME/.config/missive/config.toml
    end
    sed -n 's/^[[:space:]]*\[accounts\.\([^].]*\)\][[:space:]]*$/\1/p' $config 2>/dev/null | tr -d '"'
end
complete -c missive -n "__fish_missive_using_subcommand fetch" -a "{SOURCE_KINDS}" -d 'source kind'
complete -c missive -n "__fish_missive_using_subcommand fetch" -a "(__missive_accounts)" -d account
complete -c missive -n "__fish_missive_using_subcommand sync" -a "(__missive_accounts)" -d account
"#
    )
}

/// zsh: the actions of `fetch`'s sources and `sync`'s accounts, replaced by functions
/// defined before the script runs its completion.
fn zsh_with_extra(script: String) -> String {
    let functions = format!(
        r#"# Source kinds and the config's account names (added by tests/docs.rs).
(( $+functions[_missive_accounts] )) ||
_missive_accounts() {{
    local -a accounts
    accounts=(${{(f)"$({ACCOUNTS_SH})"}})
    compadd -a accounts
}}
(( $+functions[_missive_sources] )) ||
_missive_sources() {{
    _alternative 'kinds:source kind:compadd -S "" {SOURCE_KINDS}' 'accounts:account:_missive_accounts' 'files:file:_files'
}}

if [ "$funcstack[1]" = "_missive" ]; then"#
    );
    let replaced = script
        .replacen(
            "'*::sources -- Sources or account names:_default'",
            "'*::sources -- Sources or account names:_missive_sources'",
            1,
        )
        .replacen(
            "'*::accounts -- Accounts to sync; every configured account when none:_default'",
            "'*::accounts -- Accounts to sync; every configured account when none:_missive_accounts'",
            1,
        )
        .replacen("if [ \"$funcstack[1]\" = \"_missive\" ]; then", &functions, 1);
    assert_eq!(
        replaced.matches("_missive_sources").count()
            + replaced.matches("_missive_accounts").count(),
        7,
        "clap_complete's zsh script changed shape: adjust zsh_with_extra"
    );
    replaced
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
        let script = String::from_utf8(out).expect("UTF-8");
        let script = match shell {
            Shell::Bash => script + &bash_extra(),
            Shell::Fish => script + &fish_extra(),
            _ => zsh_with_extra(script),
        };
        (file.to_string(), script.into_bytes())
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

/// No page refers to a `missive-help(1)`, which does not exist; every page reads cleanly
/// under `man` (groff): no "cannot adjust line" for a line it cannot break, no warning of
/// any kind. The rendering is skipped where `man` is not installed (`scripts/deps test`
/// installs it).
#[test]
fn man_pages_render_without_warnings() {
    let pages = man_pages();
    let pointing_at_help: Vec<&String> = pages
        .iter()
        .filter(|(_, page)| {
            String::from_utf8_lossy(page)
                .replace("\\-", "-")
                .contains("-help(1)")
        })
        .map(|(name, _)| name)
        .collect();
    assert!(
        pointing_at_help.is_empty(),
        "{pointing_at_help:?} refer to a help page that does not exist"
    );
    if std::process::Command::new("man")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped rendering: no man command");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut warned = Vec::new();
    for (name, page) in &pages {
        let path = dir.path().join(name);
        std::fs::write(&path, page).unwrap();
        let output = std::process::Command::new("man")
            .args(["--warnings", "-l"])
            .arg(&path)
            .env("MANWIDTH", "80")
            .env("MANPAGER", "cat")
            .env("PAGER", "cat")
            .output()
            .expect("man runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        if !output.status.success() || !stderr.trim().is_empty() {
            warned.push(format!("{name}: {stderr}"));
        }
    }
    assert!(warned.is_empty(), "{}", warned.join("\n"));
}

/// bash completes a source's kind and the config's accounts after `fetch`, accounts after
/// `sync`, and `--format`'s values; zsh and fish are given the same.
#[test]
fn completion_offers_source_kinds_accounts_and_formats() {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("config.toml");
    std::fs::write(
        &config,
        "[accounts.work]\nsource = \"maildir:~/Work\"\n\n[accounts.\"home\"]\nsource = \"maildir:~/Mail\"\n",
    )
    .unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("completions/missive.bash");
    // The words typed so far, the last the one being completed.
    let complete = |words: &[&str]| -> Vec<String> {
        let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
        let output = std::process::Command::new("bash")
            .arg("-c")
            .arg(format!(
                "source '{}'; COMP_WORDS=({}); COMP_CWORD={}; \
                 _missive_sources missive \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; \
                 printf '%s\\n' \"${{COMPREPLY[@]}}\"",
                script.display(),
                quoted.join(" "),
                words.len() - 1
            ))
            .env("MISSIVE_CONFIG", &config)
            .output()
            .expect("bash runs");
        let mut offered: Vec<String> = String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter(|line| !line.is_empty())
            .map(str::to_string)
            .collect();
        offered.sort();
        offered
    };
    assert_eq!(complete(&["missive", "fetch", "mai"]), ["maildir:"]);
    let offered = complete(&["missive", "fetch", ""]);
    for expected in ["maildir:", "imap://", "work", "home"] {
        assert!(
            offered.iter().any(|o| o == expected),
            "{expected}: {offered:?}"
        );
    }
    assert_eq!(complete(&["missive", "sync", "wo"]), ["work"]);
    assert_eq!(
        complete(&["missive", "search", "--format", "t"]),
        ["text", "tree"]
    );
    let zsh = std::fs::read_to_string(script.with_file_name("_missive")).unwrap();
    let fish = std::fs::read_to_string(script.with_file_name("missive.fish")).unwrap();
    for (name, text) in [("zsh", &zsh), ("fish", &fish)] {
        assert!(
            text.contains("maildir: mbox:") && text.contains("[accounts") && text.contains("tree"),
            "{name} completion lacks kinds, accounts or formats"
        );
    }
}
