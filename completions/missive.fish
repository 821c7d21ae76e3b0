# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_missive_global_optspecs
    string join \n store= config= format= errors= no-progress h/help V/version
end

function __fish_missive_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_missive_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_missive_using_subcommand
    set -l cmd (__fish_missive_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c missive -n "__fish_missive_needs_command" -l store -d 'The store directory [default: $XDG_DATA_HOME/missive]' -r -F
complete -c missive -n "__fish_missive_needs_command" -l config -d 'The config file [default: $XDG_CONFIG_HOME/missive/config.toml]' -r -F
complete -c missive -n "__fish_missive_needs_command" -l format -d 'Output format [default: jsonl, or text when stdout is a terminal]' -r -f -a "jsonl\t'One JSON object per line (the default when stdout is not a terminal)'
json\t'One JSON array of all records'
text\t'One readable line per record'
tree\t'Threads as indented trees (`missive thread`); one readable line per record elsewhere'"
complete -c missive -n "__fish_missive_needs_command" -l errors -d 'How errors are printed on stderr' -r -f -a "text\t'`missive: WHERE: WHAT`, one line each'
jsonl\t'`error` records, one JSON object per line'"
complete -c missive -n "__fish_missive_needs_command" -l no-progress -d 'Never show a progress bar (it is only ever shown when stderr is a terminal)'
complete -c missive -n "__fish_missive_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c missive -n "__fish_missive_needs_command" -s V -l version -d 'Print version'
complete -c missive -n "__fish_missive_needs_command" -f -a "fetch" -d 'Pull new messages from sources and print a record for each'
complete -c missive -n "__fish_missive_needs_command" -f -a "score" -d 'Add the privacy index to message records, or to one raw mail for a mail filter'
complete -c missive -n "__fish_missive_needs_command" -f -a "index" -d 'Upsert message records into the search index'
complete -c missive -n "__fish_missive_needs_command" -f -a "search" -d 'Search the index'
complete -c missive -n "__fish_missive_needs_command" -f -a "tag" -d 'Add or remove tags on the messages a query finds'
complete -c missive -n "__fish_missive_needs_command" -f -a "sync" -d 'Fetch, score, thread and index every configured account in one process: the cron job'
complete -c missive -n "__fish_missive_needs_command" -f -a "keys" -d 'Manage OpenPGP keys: generate, import, export, list, show, verify, forget, learn, recommend, discover'
complete -c missive -n "__fish_missive_needs_command" -f -a "thread" -d 'Add conversation and thread ids to message records'
complete -c missive -n "__fish_missive_needs_command" -f -a "contacts" -d 'People and their identities across protocols'
complete -c missive -n "__fish_missive_needs_command" -f -a "config" -d 'Check or show the configuration'
complete -c missive -n "__fish_missive_needs_command" -f -a "schema" -d 'Print the JSON Schema of record kinds'
complete -c missive -n "__fish_missive_needs_command" -f -a "send" -d 'Write to people by the most private channel that reaches them all'
complete -c missive -n "__fish_missive_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c missive -n "__fish_missive_using_subcommand fetch" -l store -d 'The store directory [default: $XDG_DATA_HOME/missive]' -r -F
complete -c missive -n "__fish_missive_using_subcommand fetch" -l config -d 'The config file [default: $XDG_CONFIG_HOME/missive/config.toml]' -r -F
complete -c missive -n "__fish_missive_using_subcommand fetch" -l format -d 'Output format [default: jsonl, or text when stdout is a terminal]' -r -f -a "jsonl\t'One JSON object per line (the default when stdout is not a terminal)'
json\t'One JSON array of all records'
text\t'One readable line per record'
tree\t'Threads as indented trees (`missive thread`); one readable line per record elsewhere'"
complete -c missive -n "__fish_missive_using_subcommand fetch" -l errors -d 'How errors are printed on stderr' -r -f -a "text\t'`missive: WHERE: WHAT`, one line each'
jsonl\t'`error` records, one JSON object per line'"
complete -c missive -n "__fish_missive_using_subcommand fetch" -l all -d 'Print every message again, not only new ones'
complete -c missive -n "__fish_missive_using_subcommand fetch" -l no-progress -d 'Never show a progress bar (it is only ever shown when stderr is a terminal)'
complete -c missive -n "__fish_missive_using_subcommand fetch" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c missive -n "__fish_missive_using_subcommand fetch" -s V -l version -d 'Print version'
complete -c missive -n "__fish_missive_using_subcommand score" -l store -d 'The store directory [default: $XDG_DATA_HOME/missive]' -r -F
complete -c missive -n "__fish_missive_using_subcommand score" -l config -d 'The config file [default: $XDG_CONFIG_HOME/missive/config.toml]' -r -F
complete -c missive -n "__fish_missive_using_subcommand score" -l format -d 'Output format [default: jsonl, or text when stdout is a terminal]' -r -f -a "jsonl\t'One JSON object per line (the default when stdout is not a terminal)'
json\t'One JSON array of all records'
text\t'One readable line per record'
tree\t'Threads as indented trees (`missive thread`); one readable line per record elsewhere'"
complete -c missive -n "__fish_missive_using_subcommand score" -l errors -d 'How errors are printed on stderr' -r -f -a "text\t'`missive: WHERE: WHAT`, one line each'
jsonl\t'`error` records, one JSON object per line'"
complete -c missive -n "__fish_missive_using_subcommand score" -l factors -d 'Print the table of factors instead: one `factor` record per line, or aligned columns with --format text'
complete -c missive -n "__fish_missive_using_subcommand score" -l mail -d 'Read one raw mail and write it back with an X-Missive-Privacy header in front'
complete -c missive -n "__fish_missive_using_subcommand score" -l keep-foreign -d 'With --mail, keep the X-Missive-Privacy headers the mail already has; by default they are removed, since only the sender can have written them'
complete -c missive -n "__fish_missive_using_subcommand score" -l strip -d 'With --mail, remove the X-Missive-Privacy headers the mail already has: what it does by default now, accepted so that filters written for it keep working'
complete -c missive -n "__fish_missive_using_subcommand score" -l device -d 'Score this device instead of messages: store and config permissions, where account secrets come from, your own key and its passphrase; with suggestions ranked by gain'
complete -c missive -n "__fish_missive_using_subcommand score" -l contacts -d 'Score each contact instead: their key and its trust state (none, tofu, verified, conflict), its strength, the channels you know them on, and the share of your indexed exchanges with them that were encrypted; with suggestions'
complete -c missive -n "__fish_missive_using_subcommand score" -l user -d 'Your own index: the last 90 days of indexed messages, how many correspondents have a key, and this device; one point of history a day, the trend, and what to do next'
complete -c missive -n "__fish_missive_using_subcommand score" -l verify -d 'Check OpenPGP signatures (PGP/MIME and inline) against the keys in the store before scoring: `security.signature` becomes valid, invalid or unknown-key'
complete -c missive -n "__fish_missive_using_subcommand score" -l decrypt -d 'Decrypt PGP/MIME and inline PGP messages with your own key (`keys generate`) before scoring: the signature inside is checked as --verify does and `security.decrypted` is set; the text, attachments and Subject inside replace the record\'s only when the config says `[index] decrypted = true`. The passphrase comes from `[keys] passphrase_command`, else a prompt on the terminal. A message that cannot be decrypted (not to your key, wrong passphrase) is reported and kept as it was'
complete -c missive -n "__fish_missive_using_subcommand score" -l record-only -d 'Score each record from its own fields alone: do not ask the store who the people in it are (known contacts, usable keys, Autocrypt preference, other channels) or whether the message it answers was encrypted. Then the same record always scores the same'
complete -c missive -n "__fish_missive_using_subcommand score" -l no-progress -d 'Never show a progress bar (it is only ever shown when stderr is a terminal)'
complete -c missive -n "__fish_missive_using_subcommand score" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c missive -n "__fish_missive_using_subcommand score" -s V -l version -d 'Print version'
complete -c missive -n "__fish_missive_using_subcommand index" -l store -d 'The store directory [default: $XDG_DATA_HOME/missive]' -r -F
complete -c missive -n "__fish_missive_using_subcommand index" -l config -d 'The config file [default: $XDG_CONFIG_HOME/missive/config.toml]' -r -F
complete -c missive -n "__fish_missive_using_subcommand index" -l format -d 'Output format [default: jsonl, or text when stdout is a terminal]' -r -f -a "jsonl\t'One JSON object per line (the default when stdout is not a terminal)'
json\t'One JSON array of all records'
text\t'One readable line per record'
tree\t'Threads as indented trees (`missive thread`); one readable line per record elsewhere'"
complete -c missive -n "__fish_missive_using_subcommand index" -l errors -d 'How errors are printed on stderr' -r -f -a "text\t'`missive: WHERE: WHAT`, one line each'
jsonl\t'`error` records, one JSON object per line'"
complete -c missive -n "__fish_missive_using_subcommand index" -l rebuild -d 'Rebuild the index from what it holds, reading every message again from its source file (where it is now) or the archive, instead of reading stdin. Only files in the archive or a source of the store are read (another is refused, exit 1); a message whose file is gone keeps its indexed words'
complete -c missive -n "__fish_missive_using_subcommand index" -s v -l verbose -d 'Print how many records were indexed on stderr'
complete -c missive -n "__fish_missive_using_subcommand index" -l no-progress -d 'Never show a progress bar (it is only ever shown when stderr is a terminal)'
complete -c missive -n "__fish_missive_using_subcommand index" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c missive -n "__fish_missive_using_subcommand index" -s V -l version -d 'Print version'
complete -c missive -n "__fish_missive_using_subcommand search" -s o -l output -d 'What to print' -r -f -a "messages\t'The message records (their `text` is not stored in the index)'
conversations\t'One `conversation` record (as `thread --output conversations` prints) per conversation the messages belong to; messages `thread` has not seen belong to none'
threads\t'One `thread` record, the same summary, per thread the messages belong to'
count\t'The number of messages, alone'
ids\t'The message ids, one per line'"
complete -c missive -n "__fish_missive_using_subcommand search" -l sort -d 'Order of the messages' -r -f -a "date\t'Oldest first'
-date\t'Newest first'
relevance\t'Best match first'"
complete -c missive -n "__fish_missive_using_subcommand search" -s l -l limit -d 'Print at most this many' -r
complete -c missive -n "__fish_missive_using_subcommand search" -l offset -d 'Skip this many first' -r
complete -c missive -n "__fish_missive_using_subcommand search" -l store -d 'The store directory [default: $XDG_DATA_HOME/missive]' -r -F
complete -c missive -n "__fish_missive_using_subcommand search" -l config -d 'The config file [default: $XDG_CONFIG_HOME/missive/config.toml]' -r -F
complete -c missive -n "__fish_missive_using_subcommand search" -l format -d 'Output format [default: jsonl, or text when stdout is a terminal]' -r -f -a "jsonl\t'One JSON object per line (the default when stdout is not a terminal)'
json\t'One JSON array of all records'
text\t'One readable line per record'
tree\t'Threads as indented trees (`missive thread`); one readable line per record elsewhere'"
complete -c missive -n "__fish_missive_using_subcommand search" -l errors -d 'How errors are printed on stderr' -r -f -a "text\t'`missive: WHERE: WHAT`, one line each'
jsonl\t'`error` records, one JSON object per line'"
complete -c missive -n "__fish_missive_using_subcommand search" -l analyze -d 'Print how the query was understood instead of running it'
complete -c missive -n "__fish_missive_using_subcommand search" -l no-progress -d 'Never show a progress bar (it is only ever shown when stderr is a terminal)'
complete -c missive -n "__fish_missive_using_subcommand search" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c missive -n "__fish_missive_using_subcommand search" -s V -l version -d 'Print version'
complete -c missive -n "__fish_missive_using_subcommand tag" -l store -d 'The store directory [default: $XDG_DATA_HOME/missive]' -r -F
complete -c missive -n "__fish_missive_using_subcommand tag" -l config -d 'The config file [default: $XDG_CONFIG_HOME/missive/config.toml]' -r -F
complete -c missive -n "__fish_missive_using_subcommand tag" -l format -d 'Output format [default: jsonl, or text when stdout is a terminal]' -r -f -a "jsonl\t'One JSON object per line (the default when stdout is not a terminal)'
json\t'One JSON array of all records'
text\t'One readable line per record'
tree\t'Threads as indented trees (`missive thread`); one readable line per record elsewhere'"
complete -c missive -n "__fish_missive_using_subcommand tag" -l errors -d 'How errors are printed on stderr' -r -f -a "text\t'`missive: WHERE: WHAT`, one line each'
jsonl\t'`error` records, one JSON object per line'"
complete -c missive -n "__fish_missive_using_subcommand tag" -l no-progress -d 'Never show a progress bar (it is only ever shown when stderr is a terminal)'
complete -c missive -n "__fish_missive_using_subcommand tag" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c missive -n "__fish_missive_using_subcommand tag" -s V -l version -d 'Print version'
complete -c missive -n "__fish_missive_using_subcommand sync" -l store -d 'The store directory [default: $XDG_DATA_HOME/missive]' -r -F
complete -c missive -n "__fish_missive_using_subcommand sync" -l config -d 'The config file [default: $XDG_CONFIG_HOME/missive/config.toml]' -r -F
complete -c missive -n "__fish_missive_using_subcommand sync" -l format -d 'Output format [default: jsonl, or text when stdout is a terminal]' -r -f -a "jsonl\t'One JSON object per line (the default when stdout is not a terminal)'
json\t'One JSON array of all records'
text\t'One readable line per record'
tree\t'Threads as indented trees (`missive thread`); one readable line per record elsewhere'"
complete -c missive -n "__fish_missive_using_subcommand sync" -l errors -d 'How errors are printed on stderr' -r -f -a "text\t'`missive: WHERE: WHAT`, one line each'
jsonl\t'`error` records, one JSON object per line'"
complete -c missive -n "__fish_missive_using_subcommand sync" -s q -l quiet -d 'Print nothing but errors'
complete -c missive -n "__fish_missive_using_subcommand sync" -l wait -d 'Wait for a sync already running instead of exiting with status 75'
complete -c missive -n "__fish_missive_using_subcommand sync" -l no-progress -d 'Never show a progress bar (it is only ever shown when stderr is a terminal)'
complete -c missive -n "__fish_missive_using_subcommand sync" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c missive -n "__fish_missive_using_subcommand sync" -s V -l version -d 'Print version'
complete -c missive -n "__fish_missive_using_subcommand keys; and not __fish_seen_subcommand_from import export generate list show verify forget learn recommend discover help" -l store -d 'The store directory [default: $XDG_DATA_HOME/missive]' -r -F
complete -c missive -n "__fish_missive_using_subcommand keys; and not __fish_seen_subcommand_from import export generate list show verify forget learn recommend discover help" -l config -d 'The config file [default: $XDG_CONFIG_HOME/missive/config.toml]' -r -F
complete -c missive -n "__fish_missive_using_subcommand keys; and not __fish_seen_subcommand_from import export generate list show verify forget learn recommend discover help" -l format -d 'Output format [default: jsonl, or text when stdout is a terminal]' -r -f -a "jsonl\t'One JSON object per line (the default when stdout is not a terminal)'
json\t'One JSON array of all records'
text\t'One readable line per record'
tree\t'Threads as indented trees (`missive thread`); one readable line per record elsewhere'"
complete -c missive -n "__fish_missive_using_subcommand keys; and not __fish_seen_subcommand_from import export generate list show verify forget learn recommend discover help" -l errors -d 'How errors are printed on stderr' -r -f -a "text\t'`missive: WHERE: WHAT`, one line each'
jsonl\t'`error` records, one JSON object per line'"
complete -c missive -n "__fish_missive_using_subcommand keys; and not __fish_seen_subcommand_from import export generate list show verify forget learn recommend discover help" -l no-progress -d 'Never show a progress bar (it is only ever shown when stderr is a terminal)'
complete -c missive -n "__fish_missive_using_subcommand keys; and not __fish_seen_subcommand_from import export generate list show verify forget learn recommend discover help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c missive -n "__fish_missive_using_subcommand keys; and not __fish_seen_subcommand_from import export generate list show verify forget learn recommend discover help" -s V -l version -d 'Print version'
complete -c missive -n "__fish_missive_using_subcommand keys; and not __fish_seen_subcommand_from import export generate list show verify forget learn recommend discover help" -f -a "import" -d 'Import certificates (armoured or binary, several per file, as sq and gpg export them)'
complete -c missive -n "__fish_missive_using_subcommand keys; and not __fish_seen_subcommand_from import export generate list show verify forget learn recommend discover help" -f -a "export" -d 'Export certificates, armoured, as sq and gpg import them'
complete -c missive -n "__fish_missive_using_subcommand keys; and not __fish_seen_subcommand_from import export generate list show verify forget learn recommend discover help" -f -a "generate" -d 'Make your own key: Ed25519 for signing, Cv25519 for encryption'
complete -c missive -n "__fish_missive_using_subcommand keys; and not __fish_seen_subcommand_from import export generate list show verify forget learn recommend discover help" -f -a "list" -d 'List every known certificate with its bindings'
complete -c missive -n "__fish_missive_using_subcommand keys; and not __fish_seen_subcommand_from import export generate list show verify forget learn recommend discover help" -f -a "show" -d 'Show the certificates bound to an address, or one fingerprint'
complete -c missive -n "__fish_missive_using_subcommand keys; and not __fish_seen_subcommand_from import export generate list show verify forget learn recommend discover help" -f -a "verify" -d 'Confirm that a fingerprint is an address\'s key: the binding becomes `verified` and the address\'s other bindings are dropped'
complete -c missive -n "__fish_missive_using_subcommand keys; and not __fish_seen_subcommand_from import export generate list show verify forget learn recommend discover help" -f -a "forget" -d 'Drop the bindings of an address (to one fingerprint, or all)'
complete -c missive -n "__fish_missive_using_subcommand keys; and not __fish_seen_subcommand_from import export generate list show verify forget learn recommend discover help" -f -a "learn" -d 'Learn keys from Autocrypt headers: a filter that passes records through and updates each sender\'s Autocrypt state from the raw message (Autocrypt Level 1)'
complete -c missive -n "__fish_missive_using_subcommand keys; and not __fish_seen_subcommand_from import export generate list show verify forget learn recommend discover help" -f -a "recommend" -d 'What Autocrypt recommends when writing to each address: disable, discourage, available or encrypt'
complete -c missive -n "__fish_missive_using_subcommand keys; and not __fish_seen_subcommand_from import export generate list show verify forget learn recommend discover help" -f -a "discover" -d 'Look for the keys of addresses: the Web Key Directory and DNS OPENPGPKEY records validated with DNSSEC, beside the key each address announced by Autocrypt (from the store, see `keys learn`). A key found is bound to the address by trust on first use (source wkd or dane); a key other than the one bound is a conflict, shown and not used until `keys verify` or `keys forget` decides. --dry-run prints what would be queried, without any network access'
complete -c missive -n "__fish_missive_using_subcommand keys; and not __fish_seen_subcommand_from import export generate list show verify forget learn recommend discover help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from import" -l store -d 'The store directory [default: $XDG_DATA_HOME/missive]' -r -F
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from import" -l config -d 'The config file [default: $XDG_CONFIG_HOME/missive/config.toml]' -r -F
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from import" -l format -d 'Output format [default: jsonl, or text when stdout is a terminal]' -r -f -a "jsonl\t'One JSON object per line (the default when stdout is not a terminal)'
json\t'One JSON array of all records'
text\t'One readable line per record'
tree\t'Threads as indented trees (`missive thread`); one readable line per record elsewhere'"
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from import" -l errors -d 'How errors are printed on stderr' -r -f -a "text\t'`missive: WHERE: WHAT`, one line each'
jsonl\t'`error` records, one JSON object per line'"
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from import" -l no-progress -d 'Never show a progress bar (it is only ever shown when stderr is a terminal)'
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from import" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from import" -s V -l version -d 'Print version'
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from export" -l store -d 'The store directory [default: $XDG_DATA_HOME/missive]' -r -F
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from export" -l config -d 'The config file [default: $XDG_CONFIG_HOME/missive/config.toml]' -r -F
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from export" -l format -d 'Output format [default: jsonl, or text when stdout is a terminal]' -r -f -a "jsonl\t'One JSON object per line (the default when stdout is not a terminal)'
json\t'One JSON array of all records'
text\t'One readable line per record'
tree\t'Threads as indented trees (`missive thread`); one readable line per record elsewhere'"
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from export" -l errors -d 'How errors are printed on stderr' -r -f -a "text\t'`missive: WHERE: WHAT`, one line each'
jsonl\t'`error` records, one JSON object per line'"
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from export" -l secret -d 'Export your own keys with their secret parts instead (a backup)'
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from export" -l no-progress -d 'Never show a progress bar (it is only ever shown when stderr is a terminal)'
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from export" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from export" -s V -l version -d 'Print version'
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from generate" -l passphrase-command -d 'A command whose first line of output is the passphrase' -r
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from generate" -l store -d 'The store directory [default: $XDG_DATA_HOME/missive]' -r -F
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from generate" -l config -d 'The config file [default: $XDG_CONFIG_HOME/missive/config.toml]' -r -F
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from generate" -l format -d 'Output format [default: jsonl, or text when stdout is a terminal]' -r -f -a "jsonl\t'One JSON object per line (the default when stdout is not a terminal)'
json\t'One JSON array of all records'
text\t'One readable line per record'
tree\t'Threads as indented trees (`missive thread`); one readable line per record elsewhere'"
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from generate" -l errors -d 'How errors are printed on stderr' -r -f -a "text\t'`missive: WHERE: WHAT`, one line each'
jsonl\t'`error` records, one JSON object per line'"
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from generate" -l no-passphrase -d 'Keep the secret key without a passphrase'
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from generate" -l force -d 'Make a key even if you have one for the address: the new key signs from now on, the old one still decrypts'
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from generate" -l no-progress -d 'Never show a progress bar (it is only ever shown when stderr is a terminal)'
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from generate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from generate" -s V -l version -d 'Print version'
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from list" -l store -d 'The store directory [default: $XDG_DATA_HOME/missive]' -r -F
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from list" -l config -d 'The config file [default: $XDG_CONFIG_HOME/missive/config.toml]' -r -F
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from list" -l format -d 'Output format [default: jsonl, or text when stdout is a terminal]' -r -f -a "jsonl\t'One JSON object per line (the default when stdout is not a terminal)'
json\t'One JSON array of all records'
text\t'One readable line per record'
tree\t'Threads as indented trees (`missive thread`); one readable line per record elsewhere'"
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from list" -l errors -d 'How errors are printed on stderr' -r -f -a "text\t'`missive: WHERE: WHAT`, one line each'
jsonl\t'`error` records, one JSON object per line'"
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from list" -l no-progress -d 'Never show a progress bar (it is only ever shown when stderr is a terminal)'
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from show" -l store -d 'The store directory [default: $XDG_DATA_HOME/missive]' -r -F
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from show" -l config -d 'The config file [default: $XDG_CONFIG_HOME/missive/config.toml]' -r -F
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from show" -l format -d 'Output format [default: jsonl, or text when stdout is a terminal]' -r -f -a "jsonl\t'One JSON object per line (the default when stdout is not a terminal)'
json\t'One JSON array of all records'
text\t'One readable line per record'
tree\t'Threads as indented trees (`missive thread`); one readable line per record elsewhere'"
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from show" -l errors -d 'How errors are printed on stderr' -r -f -a "text\t'`missive: WHERE: WHAT`, one line each'
jsonl\t'`error` records, one JSON object per line'"
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from show" -l no-progress -d 'Never show a progress bar (it is only ever shown when stderr is a terminal)'
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from verify" -l store -d 'The store directory [default: $XDG_DATA_HOME/missive]' -r -F
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from verify" -l config -d 'The config file [default: $XDG_CONFIG_HOME/missive/config.toml]' -r -F
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from verify" -l format -d 'Output format [default: jsonl, or text when stdout is a terminal]' -r -f -a "jsonl\t'One JSON object per line (the default when stdout is not a terminal)'
json\t'One JSON array of all records'
text\t'One readable line per record'
tree\t'Threads as indented trees (`missive thread`); one readable line per record elsewhere'"
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from verify" -l errors -d 'How errors are printed on stderr' -r -f -a "text\t'`missive: WHERE: WHAT`, one line each'
jsonl\t'`error` records, one JSON object per line'"
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from verify" -l no-progress -d 'Never show a progress bar (it is only ever shown when stderr is a terminal)'
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from verify" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from verify" -s V -l version -d 'Print version'
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from forget" -l store -d 'The store directory [default: $XDG_DATA_HOME/missive]' -r -F
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from forget" -l config -d 'The config file [default: $XDG_CONFIG_HOME/missive/config.toml]' -r -F
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from forget" -l format -d 'Output format [default: jsonl, or text when stdout is a terminal]' -r -f -a "jsonl\t'One JSON object per line (the default when stdout is not a terminal)'
json\t'One JSON array of all records'
text\t'One readable line per record'
tree\t'Threads as indented trees (`missive thread`); one readable line per record elsewhere'"
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from forget" -l errors -d 'How errors are printed on stderr' -r -f -a "text\t'`missive: WHERE: WHAT`, one line each'
jsonl\t'`error` records, one JSON object per line'"
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from forget" -l no-progress -d 'Never show a progress bar (it is only ever shown when stderr is a terminal)'
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from forget" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from forget" -s V -l version -d 'Print version'
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from learn" -l store -d 'The store directory [default: $XDG_DATA_HOME/missive]' -r -F
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from learn" -l config -d 'The config file [default: $XDG_CONFIG_HOME/missive/config.toml]' -r -F
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from learn" -l format -d 'Output format [default: jsonl, or text when stdout is a terminal]' -r -f -a "jsonl\t'One JSON object per line (the default when stdout is not a terminal)'
json\t'One JSON array of all records'
text\t'One readable line per record'
tree\t'Threads as indented trees (`missive thread`); one readable line per record elsewhere'"
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from learn" -l errors -d 'How errors are printed on stderr' -r -f -a "text\t'`missive: WHERE: WHAT`, one line each'
jsonl\t'`error` records, one JSON object per line'"
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from learn" -l decrypt -d 'Decrypt encrypted mail with your own key and learn the Autocrypt-Gossip headers inside: the keys of the other recipients, only from mail signed by the sender\'s bound key and only for recipients its protected headers name. A gossiped key is bound as `gossip`, never replaces a key and never takes the first use. The passphrase comes from `[keys] passphrase_command`, else a prompt on the terminal'
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from learn" -l no-progress -d 'Never show a progress bar (it is only ever shown when stderr is a terminal)'
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from learn" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from learn" -s V -l version -d 'Print version'
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from recommend" -l store -d 'The store directory [default: $XDG_DATA_HOME/missive]' -r -F
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from recommend" -l config -d 'The config file [default: $XDG_CONFIG_HOME/missive/config.toml]' -r -F
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from recommend" -l format -d 'Output format [default: jsonl, or text when stdout is a terminal]' -r -f -a "jsonl\t'One JSON object per line (the default when stdout is not a terminal)'
json\t'One JSON array of all records'
text\t'One readable line per record'
tree\t'Threads as indented trees (`missive thread`); one readable line per record elsewhere'"
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from recommend" -l errors -d 'How errors are printed on stderr' -r -f -a "text\t'`missive: WHERE: WHAT`, one line each'
jsonl\t'`error` records, one JSON object per line'"
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from recommend" -l reply-to-encrypted -d 'The message replies to an encrypted one (Autocrypt then says encrypt)'
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from recommend" -l no-progress -d 'Never show a progress bar (it is only ever shown when stderr is a terminal)'
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from recommend" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from recommend" -s V -l version -d 'Print version'
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from discover" -l store -d 'The store directory [default: $XDG_DATA_HOME/missive]' -r -F
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from discover" -l config -d 'The config file [default: $XDG_CONFIG_HOME/missive/config.toml]' -r -F
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from discover" -l format -d 'Output format [default: jsonl, or text when stdout is a terminal]' -r -f -a "jsonl\t'One JSON object per line (the default when stdout is not a terminal)'
json\t'One JSON array of all records'
text\t'One readable line per record'
tree\t'Threads as indented trees (`missive thread`); one readable line per record elsewhere'"
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from discover" -l errors -d 'How errors are printed on stderr' -r -f -a "text\t'`missive: WHERE: WHAT`, one line each'
jsonl\t'`error` records, one JSON object per line'"
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from discover" -l contacts -d 'Look up every email address of the contacts in the store (but your own)'
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from discover" -l dry-run -d 'Print the queries instead of making them'
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from discover" -l no-progress -d 'Never show a progress bar (it is only ever shown when stderr is a terminal)'
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from discover" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from discover" -s V -l version -d 'Print version'
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from help" -f -a "import" -d 'Import certificates (armoured or binary, several per file, as sq and gpg export them)'
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from help" -f -a "export" -d 'Export certificates, armoured, as sq and gpg import them'
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from help" -f -a "generate" -d 'Make your own key: Ed25519 for signing, Cv25519 for encryption'
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from help" -f -a "list" -d 'List every known certificate with its bindings'
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show the certificates bound to an address, or one fingerprint'
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from help" -f -a "verify" -d 'Confirm that a fingerprint is an address\'s key: the binding becomes `verified` and the address\'s other bindings are dropped'
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from help" -f -a "forget" -d 'Drop the bindings of an address (to one fingerprint, or all)'
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from help" -f -a "learn" -d 'Learn keys from Autocrypt headers: a filter that passes records through and updates each sender\'s Autocrypt state from the raw message (Autocrypt Level 1)'
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from help" -f -a "recommend" -d 'What Autocrypt recommends when writing to each address: disable, discourage, available or encrypt'
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from help" -f -a "discover" -d 'Look for the keys of addresses: the Web Key Directory and DNS OPENPGPKEY records validated with DNSSEC, beside the key each address announced by Autocrypt (from the store, see `keys learn`). A key found is bound to the address by trust on first use (source wkd or dane); a key other than the one bound is a conflict, shown and not used until `keys verify` or `keys forget` decides. --dry-run prints what would be queried, without any network access'
complete -c missive -n "__fish_missive_using_subcommand keys; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c missive -n "__fish_missive_using_subcommand thread" -l output -d 'What to print' -r -f -a "messages\t'Every record, message records with `conversation` and `thread` added'
conversations\t'One `conversation` record per conversation of the input, summarising every message the store holds in it'"
complete -c missive -n "__fish_missive_using_subcommand thread" -l store -d 'The store directory [default: $XDG_DATA_HOME/missive]' -r -F
complete -c missive -n "__fish_missive_using_subcommand thread" -l config -d 'The config file [default: $XDG_CONFIG_HOME/missive/config.toml]' -r -F
complete -c missive -n "__fish_missive_using_subcommand thread" -l format -d 'Output format [default: jsonl, or text when stdout is a terminal]' -r -f -a "jsonl\t'One JSON object per line (the default when stdout is not a terminal)'
json\t'One JSON array of all records'
text\t'One readable line per record'
tree\t'Threads as indented trees (`missive thread`); one readable line per record elsewhere'"
complete -c missive -n "__fish_missive_using_subcommand thread" -l errors -d 'How errors are printed on stderr' -r -f -a "text\t'`missive: WHERE: WHAT`, one line each'
jsonl\t'`error` records, one JSON object per line'"
complete -c missive -n "__fish_missive_using_subcommand thread" -l rebuild -d 'First recompute every thread and conversation id from what the store holds (after contacts changed, or a new version of missive)'
complete -c missive -n "__fish_missive_using_subcommand thread" -l no-progress -d 'Never show a progress bar (it is only ever shown when stderr is a terminal)'
complete -c missive -n "__fish_missive_using_subcommand thread" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c missive -n "__fish_missive_using_subcommand thread" -s V -l version -d 'Print version'
complete -c missive -n "__fish_missive_using_subcommand contacts; and not __fish_seen_subcommand_from list show link unlink rename import suggest help" -l store -d 'The store directory [default: $XDG_DATA_HOME/missive]' -r -F
complete -c missive -n "__fish_missive_using_subcommand contacts; and not __fish_seen_subcommand_from list show link unlink rename import suggest help" -l config -d 'The config file [default: $XDG_CONFIG_HOME/missive/config.toml]' -r -F
complete -c missive -n "__fish_missive_using_subcommand contacts; and not __fish_seen_subcommand_from list show link unlink rename import suggest help" -l format -d 'Output format [default: jsonl, or text when stdout is a terminal]' -r -f -a "jsonl\t'One JSON object per line (the default when stdout is not a terminal)'
json\t'One JSON array of all records'
text\t'One readable line per record'
tree\t'Threads as indented trees (`missive thread`); one readable line per record elsewhere'"
complete -c missive -n "__fish_missive_using_subcommand contacts; and not __fish_seen_subcommand_from list show link unlink rename import suggest help" -l errors -d 'How errors are printed on stderr' -r -f -a "text\t'`missive: WHERE: WHAT`, one line each'
jsonl\t'`error` records, one JSON object per line'"
complete -c missive -n "__fish_missive_using_subcommand contacts; and not __fish_seen_subcommand_from list show link unlink rename import suggest help" -l no-progress -d 'Never show a progress bar (it is only ever shown when stderr is a terminal)'
complete -c missive -n "__fish_missive_using_subcommand contacts; and not __fish_seen_subcommand_from list show link unlink rename import suggest help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c missive -n "__fish_missive_using_subcommand contacts; and not __fish_seen_subcommand_from list show link unlink rename import suggest help" -s V -l version -d 'Print version'
complete -c missive -n "__fish_missive_using_subcommand contacts; and not __fish_seen_subcommand_from list show link unlink rename import suggest help" -f -a "list" -d 'List contacts made by link, rename or import'
complete -c missive -n "__fish_missive_using_subcommand contacts; and not __fish_seen_subcommand_from list show link unlink rename import suggest help" -f -a "show" -d 'Show the contact of an identity or id'
complete -c missive -n "__fish_missive_using_subcommand contacts; and not __fish_seen_subcommand_from list show link unlink rename import suggest help" -f -a "link" -d 'Make identities and contacts one contact, the first one\'s'
complete -c missive -n "__fish_missive_using_subcommand contacts; and not __fish_seen_subcommand_from list show link unlink rename import suggest help" -f -a "unlink" -d 'Take identities out of their contact: each is its own again'
complete -c missive -n "__fish_missive_using_subcommand contacts; and not __fish_seen_subcommand_from list show link unlink rename import suggest help" -f -a "rename" -d 'Name a contact'
complete -c missive -n "__fish_missive_using_subcommand contacts; and not __fish_seen_subcommand_from list show link unlink rename import suggest help" -f -a "import" -d 'Import vCard 2.1, 3.0 or 4.0 files (Nextcloud, Thunderbird, Android exports): each card becomes a contact, or joins the one an identity of it already has; a bad card is reported with its file and line'
complete -c missive -n "__fish_missive_using_subcommand contacts; and not __fish_seen_subcommand_from list show link unlink rename import suggest help" -f -a "suggest" -d 'Propose merges that are not sure (the same name on two protocols, the same local part at related domains), with the evidence; applies none'
complete -c missive -n "__fish_missive_using_subcommand contacts; and not __fish_seen_subcommand_from list show link unlink rename import suggest help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c missive -n "__fish_missive_using_subcommand contacts; and __fish_seen_subcommand_from list" -l store -d 'The store directory [default: $XDG_DATA_HOME/missive]' -r -F
complete -c missive -n "__fish_missive_using_subcommand contacts; and __fish_seen_subcommand_from list" -l config -d 'The config file [default: $XDG_CONFIG_HOME/missive/config.toml]' -r -F
complete -c missive -n "__fish_missive_using_subcommand contacts; and __fish_seen_subcommand_from list" -l format -d 'Output format [default: jsonl, or text when stdout is a terminal]' -r -f -a "jsonl\t'One JSON object per line (the default when stdout is not a terminal)'
json\t'One JSON array of all records'
text\t'One readable line per record'
tree\t'Threads as indented trees (`missive thread`); one readable line per record elsewhere'"
complete -c missive -n "__fish_missive_using_subcommand contacts; and __fish_seen_subcommand_from list" -l errors -d 'How errors are printed on stderr' -r -f -a "text\t'`missive: WHERE: WHAT`, one line each'
jsonl\t'`error` records, one JSON object per line'"
complete -c missive -n "__fish_missive_using_subcommand contacts; and __fish_seen_subcommand_from list" -l all -d 'Also every address seen in messages that no contact holds'
complete -c missive -n "__fish_missive_using_subcommand contacts; and __fish_seen_subcommand_from list" -l no-progress -d 'Never show a progress bar (it is only ever shown when stderr is a terminal)'
complete -c missive -n "__fish_missive_using_subcommand contacts; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c missive -n "__fish_missive_using_subcommand contacts; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c missive -n "__fish_missive_using_subcommand contacts; and __fish_seen_subcommand_from show" -l store -d 'The store directory [default: $XDG_DATA_HOME/missive]' -r -F
complete -c missive -n "__fish_missive_using_subcommand contacts; and __fish_seen_subcommand_from show" -l config -d 'The config file [default: $XDG_CONFIG_HOME/missive/config.toml]' -r -F
complete -c missive -n "__fish_missive_using_subcommand contacts; and __fish_seen_subcommand_from show" -l format -d 'Output format [default: jsonl, or text when stdout is a terminal]' -r -f -a "jsonl\t'One JSON object per line (the default when stdout is not a terminal)'
json\t'One JSON array of all records'
text\t'One readable line per record'
tree\t'Threads as indented trees (`missive thread`); one readable line per record elsewhere'"
complete -c missive -n "__fish_missive_using_subcommand contacts; and __fish_seen_subcommand_from show" -l errors -d 'How errors are printed on stderr' -r -f -a "text\t'`missive: WHERE: WHAT`, one line each'
jsonl\t'`error` records, one JSON object per line'"
complete -c missive -n "__fish_missive_using_subcommand contacts; and __fish_seen_subcommand_from show" -l no-progress -d 'Never show a progress bar (it is only ever shown when stderr is a terminal)'
complete -c missive -n "__fish_missive_using_subcommand contacts; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c missive -n "__fish_missive_using_subcommand contacts; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c missive -n "__fish_missive_using_subcommand contacts; and __fish_seen_subcommand_from link" -l name -d 'Name the contact' -r
complete -c missive -n "__fish_missive_using_subcommand contacts; and __fish_seen_subcommand_from link" -l store -d 'The store directory [default: $XDG_DATA_HOME/missive]' -r -F
complete -c missive -n "__fish_missive_using_subcommand contacts; and __fish_seen_subcommand_from link" -l config -d 'The config file [default: $XDG_CONFIG_HOME/missive/config.toml]' -r -F
complete -c missive -n "__fish_missive_using_subcommand contacts; and __fish_seen_subcommand_from link" -l format -d 'Output format [default: jsonl, or text when stdout is a terminal]' -r -f -a "jsonl\t'One JSON object per line (the default when stdout is not a terminal)'
json\t'One JSON array of all records'
text\t'One readable line per record'
tree\t'Threads as indented trees (`missive thread`); one readable line per record elsewhere'"
complete -c missive -n "__fish_missive_using_subcommand contacts; and __fish_seen_subcommand_from link" -l errors -d 'How errors are printed on stderr' -r -f -a "text\t'`missive: WHERE: WHAT`, one line each'
jsonl\t'`error` records, one JSON object per line'"
complete -c missive -n "__fish_missive_using_subcommand contacts; and __fish_seen_subcommand_from link" -l no-progress -d 'Never show a progress bar (it is only ever shown when stderr is a terminal)'
complete -c missive -n "__fish_missive_using_subcommand contacts; and __fish_seen_subcommand_from link" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c missive -n "__fish_missive_using_subcommand contacts; and __fish_seen_subcommand_from link" -s V -l version -d 'Print version'
complete -c missive -n "__fish_missive_using_subcommand contacts; and __fish_seen_subcommand_from unlink" -l store -d 'The store directory [default: $XDG_DATA_HOME/missive]' -r -F
complete -c missive -n "__fish_missive_using_subcommand contacts; and __fish_seen_subcommand_from unlink" -l config -d 'The config file [default: $XDG_CONFIG_HOME/missive/config.toml]' -r -F
complete -c missive -n "__fish_missive_using_subcommand contacts; and __fish_seen_subcommand_from unlink" -l format -d 'Output format [default: jsonl, or text when stdout is a terminal]' -r -f -a "jsonl\t'One JSON object per line (the default when stdout is not a terminal)'
json\t'One JSON array of all records'
text\t'One readable line per record'
tree\t'Threads as indented trees (`missive thread`); one readable line per record elsewhere'"
complete -c missive -n "__fish_missive_using_subcommand contacts; and __fish_seen_subcommand_from unlink" -l errors -d 'How errors are printed on stderr' -r -f -a "text\t'`missive: WHERE: WHAT`, one line each'
jsonl\t'`error` records, one JSON object per line'"
complete -c missive -n "__fish_missive_using_subcommand contacts; and __fish_seen_subcommand_from unlink" -l no-progress -d 'Never show a progress bar (it is only ever shown when stderr is a terminal)'
complete -c missive -n "__fish_missive_using_subcommand contacts; and __fish_seen_subcommand_from unlink" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c missive -n "__fish_missive_using_subcommand contacts; and __fish_seen_subcommand_from unlink" -s V -l version -d 'Print version'
complete -c missive -n "__fish_missive_using_subcommand contacts; and __fish_seen_subcommand_from rename" -l store -d 'The store directory [default: $XDG_DATA_HOME/missive]' -r -F
complete -c missive -n "__fish_missive_using_subcommand contacts; and __fish_seen_subcommand_from rename" -l config -d 'The config file [default: $XDG_CONFIG_HOME/missive/config.toml]' -r -F
complete -c missive -n "__fish_missive_using_subcommand contacts; and __fish_seen_subcommand_from rename" -l format -d 'Output format [default: jsonl, or text when stdout is a terminal]' -r -f -a "jsonl\t'One JSON object per line (the default when stdout is not a terminal)'
json\t'One JSON array of all records'
text\t'One readable line per record'
tree\t'Threads as indented trees (`missive thread`); one readable line per record elsewhere'"
complete -c missive -n "__fish_missive_using_subcommand contacts; and __fish_seen_subcommand_from rename" -l errors -d 'How errors are printed on stderr' -r -f -a "text\t'`missive: WHERE: WHAT`, one line each'
jsonl\t'`error` records, one JSON object per line'"
complete -c missive -n "__fish_missive_using_subcommand contacts; and __fish_seen_subcommand_from rename" -l no-progress -d 'Never show a progress bar (it is only ever shown when stderr is a terminal)'
complete -c missive -n "__fish_missive_using_subcommand contacts; and __fish_seen_subcommand_from rename" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c missive -n "__fish_missive_using_subcommand contacts; and __fish_seen_subcommand_from rename" -s V -l version -d 'Print version'
complete -c missive -n "__fish_missive_using_subcommand contacts; and __fish_seen_subcommand_from import" -l store -d 'The store directory [default: $XDG_DATA_HOME/missive]' -r -F
complete -c missive -n "__fish_missive_using_subcommand contacts; and __fish_seen_subcommand_from import" -l config -d 'The config file [default: $XDG_CONFIG_HOME/missive/config.toml]' -r -F
complete -c missive -n "__fish_missive_using_subcommand contacts; and __fish_seen_subcommand_from import" -l format -d 'Output format [default: jsonl, or text when stdout is a terminal]' -r -f -a "jsonl\t'One JSON object per line (the default when stdout is not a terminal)'
json\t'One JSON array of all records'
text\t'One readable line per record'
tree\t'Threads as indented trees (`missive thread`); one readable line per record elsewhere'"
complete -c missive -n "__fish_missive_using_subcommand contacts; and __fish_seen_subcommand_from import" -l errors -d 'How errors are printed on stderr' -r -f -a "text\t'`missive: WHERE: WHAT`, one line each'
jsonl\t'`error` records, one JSON object per line'"
complete -c missive -n "__fish_missive_using_subcommand contacts; and __fish_seen_subcommand_from import" -l no-progress -d 'Never show a progress bar (it is only ever shown when stderr is a terminal)'
complete -c missive -n "__fish_missive_using_subcommand contacts; and __fish_seen_subcommand_from import" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c missive -n "__fish_missive_using_subcommand contacts; and __fish_seen_subcommand_from import" -s V -l version -d 'Print version'
complete -c missive -n "__fish_missive_using_subcommand contacts; and __fish_seen_subcommand_from suggest" -l store -d 'The store directory [default: $XDG_DATA_HOME/missive]' -r -F
complete -c missive -n "__fish_missive_using_subcommand contacts; and __fish_seen_subcommand_from suggest" -l config -d 'The config file [default: $XDG_CONFIG_HOME/missive/config.toml]' -r -F
complete -c missive -n "__fish_missive_using_subcommand contacts; and __fish_seen_subcommand_from suggest" -l format -d 'Output format [default: jsonl, or text when stdout is a terminal]' -r -f -a "jsonl\t'One JSON object per line (the default when stdout is not a terminal)'
json\t'One JSON array of all records'
text\t'One readable line per record'
tree\t'Threads as indented trees (`missive thread`); one readable line per record elsewhere'"
complete -c missive -n "__fish_missive_using_subcommand contacts; and __fish_seen_subcommand_from suggest" -l errors -d 'How errors are printed on stderr' -r -f -a "text\t'`missive: WHERE: WHAT`, one line each'
jsonl\t'`error` records, one JSON object per line'"
complete -c missive -n "__fish_missive_using_subcommand contacts; and __fish_seen_subcommand_from suggest" -l no-progress -d 'Never show a progress bar (it is only ever shown when stderr is a terminal)'
complete -c missive -n "__fish_missive_using_subcommand contacts; and __fish_seen_subcommand_from suggest" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c missive -n "__fish_missive_using_subcommand contacts; and __fish_seen_subcommand_from suggest" -s V -l version -d 'Print version'
complete -c missive -n "__fish_missive_using_subcommand contacts; and __fish_seen_subcommand_from help" -f -a "list" -d 'List contacts made by link, rename or import'
complete -c missive -n "__fish_missive_using_subcommand contacts; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show the contact of an identity or id'
complete -c missive -n "__fish_missive_using_subcommand contacts; and __fish_seen_subcommand_from help" -f -a "link" -d 'Make identities and contacts one contact, the first one\'s'
complete -c missive -n "__fish_missive_using_subcommand contacts; and __fish_seen_subcommand_from help" -f -a "unlink" -d 'Take identities out of their contact: each is its own again'
complete -c missive -n "__fish_missive_using_subcommand contacts; and __fish_seen_subcommand_from help" -f -a "rename" -d 'Name a contact'
complete -c missive -n "__fish_missive_using_subcommand contacts; and __fish_seen_subcommand_from help" -f -a "import" -d 'Import vCard 2.1, 3.0 or 4.0 files (Nextcloud, Thunderbird, Android exports): each card becomes a contact, or joins the one an identity of it already has; a bad card is reported with its file and line'
complete -c missive -n "__fish_missive_using_subcommand contacts; and __fish_seen_subcommand_from help" -f -a "suggest" -d 'Propose merges that are not sure (the same name on two protocols, the same local part at related domains), with the evidence; applies none'
complete -c missive -n "__fish_missive_using_subcommand contacts; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c missive -n "__fish_missive_using_subcommand config; and not __fish_seen_subcommand_from check show help" -l store -d 'The store directory [default: $XDG_DATA_HOME/missive]' -r -F
complete -c missive -n "__fish_missive_using_subcommand config; and not __fish_seen_subcommand_from check show help" -l config -d 'The config file [default: $XDG_CONFIG_HOME/missive/config.toml]' -r -F
complete -c missive -n "__fish_missive_using_subcommand config; and not __fish_seen_subcommand_from check show help" -l format -d 'Output format [default: jsonl, or text when stdout is a terminal]' -r -f -a "jsonl\t'One JSON object per line (the default when stdout is not a terminal)'
json\t'One JSON array of all records'
text\t'One readable line per record'
tree\t'Threads as indented trees (`missive thread`); one readable line per record elsewhere'"
complete -c missive -n "__fish_missive_using_subcommand config; and not __fish_seen_subcommand_from check show help" -l errors -d 'How errors are printed on stderr' -r -f -a "text\t'`missive: WHERE: WHAT`, one line each'
jsonl\t'`error` records, one JSON object per line'"
complete -c missive -n "__fish_missive_using_subcommand config; and not __fish_seen_subcommand_from check show help" -l no-progress -d 'Never show a progress bar (it is only ever shown when stderr is a terminal)'
complete -c missive -n "__fish_missive_using_subcommand config; and not __fish_seen_subcommand_from check show help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c missive -n "__fish_missive_using_subcommand config; and not __fish_seen_subcommand_from check show help" -s V -l version -d 'Print version'
complete -c missive -n "__fish_missive_using_subcommand config; and not __fish_seen_subcommand_from check show help" -f -a "check" -d 'Check the config file; errors name the file, line and key, or the account whose source path does not exist'
complete -c missive -n "__fish_missive_using_subcommand config; and not __fish_seen_subcommand_from check show help" -f -a "show" -d 'Print the effective configuration, secrets masked'
complete -c missive -n "__fish_missive_using_subcommand config; and not __fish_seen_subcommand_from check show help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c missive -n "__fish_missive_using_subcommand config; and __fish_seen_subcommand_from check" -l store -d 'The store directory [default: $XDG_DATA_HOME/missive]' -r -F
complete -c missive -n "__fish_missive_using_subcommand config; and __fish_seen_subcommand_from check" -l config -d 'The config file [default: $XDG_CONFIG_HOME/missive/config.toml]' -r -F
complete -c missive -n "__fish_missive_using_subcommand config; and __fish_seen_subcommand_from check" -l format -d 'Output format [default: jsonl, or text when stdout is a terminal]' -r -f -a "jsonl\t'One JSON object per line (the default when stdout is not a terminal)'
json\t'One JSON array of all records'
text\t'One readable line per record'
tree\t'Threads as indented trees (`missive thread`); one readable line per record elsewhere'"
complete -c missive -n "__fish_missive_using_subcommand config; and __fish_seen_subcommand_from check" -l errors -d 'How errors are printed on stderr' -r -f -a "text\t'`missive: WHERE: WHAT`, one line each'
jsonl\t'`error` records, one JSON object per line'"
complete -c missive -n "__fish_missive_using_subcommand config; and __fish_seen_subcommand_from check" -l connect -d 'Also log in to each IMAP account and report what the server offers; nothing is fetched'
complete -c missive -n "__fish_missive_using_subcommand config; and __fish_seen_subcommand_from check" -l no-progress -d 'Never show a progress bar (it is only ever shown when stderr is a terminal)'
complete -c missive -n "__fish_missive_using_subcommand config; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c missive -n "__fish_missive_using_subcommand config; and __fish_seen_subcommand_from check" -s V -l version -d 'Print version'
complete -c missive -n "__fish_missive_using_subcommand config; and __fish_seen_subcommand_from show" -l store -d 'The store directory [default: $XDG_DATA_HOME/missive]' -r -F
complete -c missive -n "__fish_missive_using_subcommand config; and __fish_seen_subcommand_from show" -l config -d 'The config file [default: $XDG_CONFIG_HOME/missive/config.toml]' -r -F
complete -c missive -n "__fish_missive_using_subcommand config; and __fish_seen_subcommand_from show" -l format -d 'Output format [default: jsonl, or text when stdout is a terminal]' -r -f -a "jsonl\t'One JSON object per line (the default when stdout is not a terminal)'
json\t'One JSON array of all records'
text\t'One readable line per record'
tree\t'Threads as indented trees (`missive thread`); one readable line per record elsewhere'"
complete -c missive -n "__fish_missive_using_subcommand config; and __fish_seen_subcommand_from show" -l errors -d 'How errors are printed on stderr' -r -f -a "text\t'`missive: WHERE: WHAT`, one line each'
jsonl\t'`error` records, one JSON object per line'"
complete -c missive -n "__fish_missive_using_subcommand config; and __fish_seen_subcommand_from show" -l no-progress -d 'Never show a progress bar (it is only ever shown when stderr is a terminal)'
complete -c missive -n "__fish_missive_using_subcommand config; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c missive -n "__fish_missive_using_subcommand config; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c missive -n "__fish_missive_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "check" -d 'Check the config file; errors name the file, line and key, or the account whose source path does not exist'
complete -c missive -n "__fish_missive_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "show" -d 'Print the effective configuration, secrets masked'
complete -c missive -n "__fish_missive_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c missive -n "__fish_missive_using_subcommand schema" -l store -d 'The store directory [default: $XDG_DATA_HOME/missive]' -r -F
complete -c missive -n "__fish_missive_using_subcommand schema" -l config -d 'The config file [default: $XDG_CONFIG_HOME/missive/config.toml]' -r -F
complete -c missive -n "__fish_missive_using_subcommand schema" -l format -d 'Output format [default: jsonl, or text when stdout is a terminal]' -r -f -a "jsonl\t'One JSON object per line (the default when stdout is not a terminal)'
json\t'One JSON array of all records'
text\t'One readable line per record'
tree\t'Threads as indented trees (`missive thread`); one readable line per record elsewhere'"
complete -c missive -n "__fish_missive_using_subcommand schema" -l errors -d 'How errors are printed on stderr' -r -f -a "text\t'`missive: WHERE: WHAT`, one line each'
jsonl\t'`error` records, one JSON object per line'"
complete -c missive -n "__fish_missive_using_subcommand schema" -l no-progress -d 'Never show a progress bar (it is only ever shown when stderr is a terminal)'
complete -c missive -n "__fish_missive_using_subcommand schema" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c missive -n "__fish_missive_using_subcommand schema" -s V -l version -d 'Print version'
complete -c missive -n "__fish_missive_using_subcommand send" -l to -d 'A recipient: a contact\'s name or id, an address, @user@instance' -r
complete -c missive -n "__fish_missive_using_subcommand send" -l cc -r
complete -c missive -n "__fish_missive_using_subcommand send" -l bcc -d 'A recipient named in no header' -r
complete -c missive -n "__fish_missive_using_subcommand send" -l subject -r
complete -c missive -n "__fish_missive_using_subcommand send" -l from -d 'Send from this one of your addresses in [identity] (default: the first email one)' -r
complete -c missive -n "__fish_missive_using_subcommand send" -l reply -d 'Answer the message with this record id: to its sender, `Re:` its subject, in its thread and conversation' -r
complete -c missive -n "__fish_missive_using_subcommand send" -l attach -d 'A file to attach' -r -F
complete -c missive -n "__fish_missive_using_subcommand send" -l via -d 'Use this channel whatever the ranking says: pgp-mime, tls or mastodon-dm' -r
complete -c missive -n "__fish_missive_using_subcommand send" -l min-privacy -d 'Refuse to send below this privacy score (0–100)' -r
complete -c missive -n "__fish_missive_using_subcommand send" -s f -d 'With --sendmail: the sender, one of your addresses in [identity] (default: the message\'s From when it is one of them)' -r
complete -c missive -n "__fish_missive_using_subcommand send" -s o -d 'With --sendmail: sendmail\'s -oX options (-oi, -oem), accepted and ignored' -r
complete -c missive -n "__fish_missive_using_subcommand send" -l store -d 'The store directory [default: $XDG_DATA_HOME/missive]' -r -F
complete -c missive -n "__fish_missive_using_subcommand send" -l config -d 'The config file [default: $XDG_CONFIG_HOME/missive/config.toml]' -r -F
complete -c missive -n "__fish_missive_using_subcommand send" -l format -d 'Output format [default: jsonl, or text when stdout is a terminal]' -r -f -a "jsonl\t'One JSON object per line (the default when stdout is not a terminal)'
json\t'One JSON array of all records'
text\t'One readable line per record'
tree\t'Threads as indented trees (`missive thread`); one readable line per record elsewhere'"
complete -c missive -n "__fish_missive_using_subcommand send" -l errors -d 'How errors are printed on stderr' -r -f -a "text\t'`missive: WHERE: WHAT`, one line each'
jsonl\t'`error` records, one JSON object per line'"
complete -c missive -n "__fish_missive_using_subcommand send" -l split -d 'To recipients of whom some have a key: encrypted to those, TLS to the others'
complete -c missive -n "__fish_missive_using_subcommand send" -l dry-run -d 'Print the plan as `delivery` records with status planned; send nothing'
complete -c missive -n "__fish_missive_using_subcommand send" -l flush -d 'Send what the outbox still holds (queued or interrupted), for cron'
complete -c missive -n "__fish_missive_using_subcommand send" -l sendmail -d 'Read one RFC 5322 message on stdin, as sendmail does, for mail user agents and scripts (mutt\'s `sendmail`, `git send-email --sendmail-cmd`): its Subject, text, In-Reply-To and Message-ID are routed as a draft. Exit 0 sent, 75 queued, 1 refused or failed'
complete -c missive -n "__fish_missive_using_subcommand send" -s t -d 'With --sendmail: the recipients are also those of the To, Cc and Bcc headers (Bcc is written into no header of what is sent)'
complete -c missive -n "__fish_missive_using_subcommand send" -s i -d 'With --sendmail: accepted, as the message always ends at the end of stdin (a line with a lone dot does not end it)'
complete -c missive -n "__fish_missive_using_subcommand send" -l no-progress -d 'Never show a progress bar (it is only ever shown when stderr is a terminal)'
complete -c missive -n "__fish_missive_using_subcommand send" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c missive -n "__fish_missive_using_subcommand send" -s V -l version -d 'Print version'
complete -c missive -n "__fish_missive_using_subcommand help; and not __fish_seen_subcommand_from fetch score index search tag sync keys thread contacts config schema send help" -f -a "fetch" -d 'Pull new messages from sources and print a record for each'
complete -c missive -n "__fish_missive_using_subcommand help; and not __fish_seen_subcommand_from fetch score index search tag sync keys thread contacts config schema send help" -f -a "score" -d 'Add the privacy index to message records, or to one raw mail for a mail filter'
complete -c missive -n "__fish_missive_using_subcommand help; and not __fish_seen_subcommand_from fetch score index search tag sync keys thread contacts config schema send help" -f -a "index" -d 'Upsert message records into the search index'
complete -c missive -n "__fish_missive_using_subcommand help; and not __fish_seen_subcommand_from fetch score index search tag sync keys thread contacts config schema send help" -f -a "search" -d 'Search the index'
complete -c missive -n "__fish_missive_using_subcommand help; and not __fish_seen_subcommand_from fetch score index search tag sync keys thread contacts config schema send help" -f -a "tag" -d 'Add or remove tags on the messages a query finds'
complete -c missive -n "__fish_missive_using_subcommand help; and not __fish_seen_subcommand_from fetch score index search tag sync keys thread contacts config schema send help" -f -a "sync" -d 'Fetch, score, thread and index every configured account in one process: the cron job'
complete -c missive -n "__fish_missive_using_subcommand help; and not __fish_seen_subcommand_from fetch score index search tag sync keys thread contacts config schema send help" -f -a "keys" -d 'Manage OpenPGP keys: generate, import, export, list, show, verify, forget, learn, recommend, discover'
complete -c missive -n "__fish_missive_using_subcommand help; and not __fish_seen_subcommand_from fetch score index search tag sync keys thread contacts config schema send help" -f -a "thread" -d 'Add conversation and thread ids to message records'
complete -c missive -n "__fish_missive_using_subcommand help; and not __fish_seen_subcommand_from fetch score index search tag sync keys thread contacts config schema send help" -f -a "contacts" -d 'People and their identities across protocols'
complete -c missive -n "__fish_missive_using_subcommand help; and not __fish_seen_subcommand_from fetch score index search tag sync keys thread contacts config schema send help" -f -a "config" -d 'Check or show the configuration'
complete -c missive -n "__fish_missive_using_subcommand help; and not __fish_seen_subcommand_from fetch score index search tag sync keys thread contacts config schema send help" -f -a "schema" -d 'Print the JSON Schema of record kinds'
complete -c missive -n "__fish_missive_using_subcommand help; and not __fish_seen_subcommand_from fetch score index search tag sync keys thread contacts config schema send help" -f -a "send" -d 'Write to people by the most private channel that reaches them all'
complete -c missive -n "__fish_missive_using_subcommand help; and not __fish_seen_subcommand_from fetch score index search tag sync keys thread contacts config schema send help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c missive -n "__fish_missive_using_subcommand help; and __fish_seen_subcommand_from keys" -f -a "import" -d 'Import certificates (armoured or binary, several per file, as sq and gpg export them)'
complete -c missive -n "__fish_missive_using_subcommand help; and __fish_seen_subcommand_from keys" -f -a "export" -d 'Export certificates, armoured, as sq and gpg import them'
complete -c missive -n "__fish_missive_using_subcommand help; and __fish_seen_subcommand_from keys" -f -a "generate" -d 'Make your own key: Ed25519 for signing, Cv25519 for encryption'
complete -c missive -n "__fish_missive_using_subcommand help; and __fish_seen_subcommand_from keys" -f -a "list" -d 'List every known certificate with its bindings'
complete -c missive -n "__fish_missive_using_subcommand help; and __fish_seen_subcommand_from keys" -f -a "show" -d 'Show the certificates bound to an address, or one fingerprint'
complete -c missive -n "__fish_missive_using_subcommand help; and __fish_seen_subcommand_from keys" -f -a "verify" -d 'Confirm that a fingerprint is an address\'s key: the binding becomes `verified` and the address\'s other bindings are dropped'
complete -c missive -n "__fish_missive_using_subcommand help; and __fish_seen_subcommand_from keys" -f -a "forget" -d 'Drop the bindings of an address (to one fingerprint, or all)'
complete -c missive -n "__fish_missive_using_subcommand help; and __fish_seen_subcommand_from keys" -f -a "learn" -d 'Learn keys from Autocrypt headers: a filter that passes records through and updates each sender\'s Autocrypt state from the raw message (Autocrypt Level 1)'
complete -c missive -n "__fish_missive_using_subcommand help; and __fish_seen_subcommand_from keys" -f -a "recommend" -d 'What Autocrypt recommends when writing to each address: disable, discourage, available or encrypt'
complete -c missive -n "__fish_missive_using_subcommand help; and __fish_seen_subcommand_from keys" -f -a "discover" -d 'Look for the keys of addresses: the Web Key Directory and DNS OPENPGPKEY records validated with DNSSEC, beside the key each address announced by Autocrypt (from the store, see `keys learn`). A key found is bound to the address by trust on first use (source wkd or dane); a key other than the one bound is a conflict, shown and not used until `keys verify` or `keys forget` decides. --dry-run prints what would be queried, without any network access'
complete -c missive -n "__fish_missive_using_subcommand help; and __fish_seen_subcommand_from contacts" -f -a "list" -d 'List contacts made by link, rename or import'
complete -c missive -n "__fish_missive_using_subcommand help; and __fish_seen_subcommand_from contacts" -f -a "show" -d 'Show the contact of an identity or id'
complete -c missive -n "__fish_missive_using_subcommand help; and __fish_seen_subcommand_from contacts" -f -a "link" -d 'Make identities and contacts one contact, the first one\'s'
complete -c missive -n "__fish_missive_using_subcommand help; and __fish_seen_subcommand_from contacts" -f -a "unlink" -d 'Take identities out of their contact: each is its own again'
complete -c missive -n "__fish_missive_using_subcommand help; and __fish_seen_subcommand_from contacts" -f -a "rename" -d 'Name a contact'
complete -c missive -n "__fish_missive_using_subcommand help; and __fish_seen_subcommand_from contacts" -f -a "import" -d 'Import vCard 2.1, 3.0 or 4.0 files (Nextcloud, Thunderbird, Android exports): each card becomes a contact, or joins the one an identity of it already has; a bad card is reported with its file and line'
complete -c missive -n "__fish_missive_using_subcommand help; and __fish_seen_subcommand_from contacts" -f -a "suggest" -d 'Propose merges that are not sure (the same name on two protocols, the same local part at related domains), with the evidence; applies none'
complete -c missive -n "__fish_missive_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "check" -d 'Check the config file; errors name the file, line and key, or the account whose source path does not exist'
complete -c missive -n "__fish_missive_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "show" -d 'Print the effective configuration, secrets masked'

# Source kinds and the config's account names (added by tests/docs.rs).
function __missive_accounts
    set -l config $MISSIVE_CONFIG
    if test -z "$config"
        set -q XDG_CONFIG_HOME; and set config $XDG_CONFIG_HOME/missive/config.toml; or set config $HOME/.config/missive/config.toml
    end
    sed -n 's/^[[:space:]]*\[accounts\.\([^].]*\)\][[:space:]]*$/\1/p' $config 2>/dev/null | tr -d '"'
end
complete -c missive -n "__fish_missive_using_subcommand fetch" -a "maildir: mbox: eml: jsonl: imap:// mastodon:// twitter-archive: facebook-export: signal: matrix-export:" -d 'source kind'
complete -c missive -n "__fish_missive_using_subcommand fetch" -a "(__missive_accounts)" -d account
complete -c missive -n "__fish_missive_using_subcommand sync" -a "(__missive_accounts)" -d account
