"""What the benchmark scripts share: the search queries and file helpers.

Imported by scripts/bench-search and scripts/bench-scale (run from anywhere: each puts
its own directory on sys.path first).
"""

from pathlib import Path

# (kind, missive query, notmuch query, mu query)
QUERIES = (
    [("from", f"from:{n}", f"from:{n}", f"from:{n}") for n in
     ["alice", "bob", "carol", "grace", "victor", "françois", "jürgen", "josé", "wendy", "heidi"]]
    + [("common word", w, w, w) for w in
       ["meeting", "budget", "schedule", "review", "server", "notes", "draft", "thanks", "report", "march"]]
    + [("rare word", w, w, w) for w in
       ["hartley", "ellison", "quincy", "morrow", "rousseau", "chevalier", "krüger", "valencia", "münchen", "duprès"]]
    + [("phrase", f'subject:"{p}"', f'subject:"{p}"', f'subject:"{p}"') for p in
       ["meeting notes", "draft for review", "server migration", "travel plans", "budget proposal",
        "release checklist", "board meeting minutes", "welcome aboard", "updated schedule", "lunch on friday"]]
    + [("date and combined", m, n, u) for m, n, u in [
        ("date:2023-01..2023-06", "date:2023-01-01..2023-06-30", "date:20230101..20230630"),
        ("date:2022", "date:2022-01-01..2022-12-31", "date:20220101..20221231"),
        ("from:alice budget", "from:alice and budget", "from:alice and budget"),
        ("from:bob NOT meeting", "from:bob and not meeting", "from:bob and not meeting"),
        ("meeting OR budget", "meeting or budget", "meeting or budget"),
        ("(from:alice OR from:bob) server", "(from:alice or from:bob) and server", "(from:alice or from:bob) and server"),
        ("subject:invoice date:2023", "subject:invoice and date:2023-01-01..2023-12-31", "subject:invoice and date:20230101..20231231"),
        ("to:carol review", "to:carol and review", "to:carol and review"),
        ("from:grace -draft", "from:grace and not draft", "from:grace and not draft"),
        ("schedule date:2021..2022", "schedule and date:2021-01-01..2022-12-31", "schedule and date:20210101..20221231"),
    ]]
)


def warm(path):
    """Reads every file under `path`, so that it is in the page cache."""
    for f in Path(path).rglob("*"):
        if f.is_file():
            f.read_bytes()


def size_mb(path):
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file()) / 1e6
