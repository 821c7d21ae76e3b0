//! The query tree: what a parsed `missive search` query asks of the index, which
//! [`super::index`] turns into a tantivy query. The language that builds it, and what each
//! field means to the user, is [`crate::search::query`].

use std::fmt;

/// A parsed query.
#[derive(Debug, Clone, PartialEq)]
pub enum Query {
    /// Every message (an empty query).
    All,
    And(Vec<Query>),
    Or(Vec<Query>),
    Not(Box<Query>),
    /// Words in a text field, in order when `phrase` (field `None`: subject, body, names,
    /// addresses and attachment names).
    Text {
        field: Option<TextField>,
        words: String,
        phrase: bool,
    },
    /// An exact value of a keyword field.
    Keyword {
        field: KeywordField,
        value: String,
    },
    /// Messages in a time range, in Unix seconds, ends included.
    Date {
        from: Option<i64>,
        to: Option<i64>,
    },
    /// Messages whose privacy score is in a range, ends included.
    Privacy {
        from: u8,
        to: u8,
    },
}

/// Fields matched by words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextField {
    From,
    To,
    With,
    Subject,
    Body,
    Attachment,
    List,
}

/// Fields matched by exact values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeywordField {
    Protocol,
    Account,
    Tag,
    Conversation,
    Thread,
    Id,
    Grade,
    /// `is:` and `has:` states.
    State,
}

impl Query {
    /// This query with every date range that narrows it (one not under a `not`) made to
    /// match every message, or `None` when there is none: what a date filter leaves out
    /// besides dates out of range is the undated messages this one finds.
    pub fn without_date_filters(&self) -> Option<Query> {
        match self {
            Query::Date { .. } => Some(Query::All),
            Query::And(parts) | Query::Or(parts) => {
                let changed: Vec<Option<Query>> =
                    parts.iter().map(Query::without_date_filters).collect();
                if changed.iter().all(Option::is_none) {
                    return None;
                }
                let parts = parts
                    .iter()
                    .zip(changed)
                    .map(|(part, changed)| changed.unwrap_or_else(|| part.clone()))
                    .collect();
                Some(match self {
                    Query::And(_) => Query::And(parts),
                    _ => Query::Or(parts),
                })
            }
            _ => None,
        }
    }
}

impl fmt::Display for Query {
    /// The query as understood, fully parenthesised: what `--analyze` prints.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |f: &mut fmt::Formatter<'_>, op: &str, parts: &[Query]| {
            write!(f, "({op}")?;
            for part in parts {
                write!(f, " {part}")?;
            }
            write!(f, ")")
        };
        match self {
            Query::All => write!(f, "(all)"),
            Query::And(parts) => list(f, "and", parts),
            Query::Or(parts) => list(f, "or", parts),
            Query::Not(inner) => write!(f, "(not {inner})"),
            Query::Text {
                field,
                words,
                phrase,
            } => {
                let field = field.map_or("text".to_string(), |f| format!("{f:?}").to_lowercase());
                if *phrase {
                    write!(f, "{field}:phrase({words:?})")
                } else {
                    write!(f, "{field}:words({words:?})")
                }
            }
            Query::Keyword { field, value } => {
                write!(f, "{}={value:?}", format!("{field:?}").to_lowercase())
            }
            Query::Date { from, to } => {
                let show = |t: &Option<i64>| t.map_or("*".to_string(), crate::record::rfc3339);
                write!(f, "date[{}..{}]", show(from), show(to))
            }
            Query::Privacy { from, to } => write!(f, "privacy[{from}..{to}]"),
        }
    }
}
