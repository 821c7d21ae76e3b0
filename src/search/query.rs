//! The query language of `missive search` and `missive tag`: parses a query into a
//! [`Query`] tree (which lives beside the index that runs it, in [`crate::store::query`]),
//! with errors that point at the column of the mistake. Running a query against the index is
//! [`super::search`]'s job.
//!
//! It follows notmuch and mu: words and "phrases", `field:value` terms, AND (also implied
//! between terms), OR, NOT (or a leading `-`) and parentheses. NOT binds tightest, then AND,
//! then OR. Words match case and accents folded: `ecole` finds "École".
//!
//! ```text
//! query    = or
//! or       = and *( "OR" and )                      alice OR bob
//! and      = unary *( ["AND"] unary )               alice lunch   alice AND lunch
//! unary    = ("NOT" / "-") unary / primary          NOT tag:work  -is:unread
//! primary  = "(" or ")" / field ":(" or ")" / term   (alice OR bob) lunch   from:(alice OR carol)
//! term     = [field ":"] value / "*"                from:alice  "seed swap"   *
//! value    = word / '"' phrase '"'                  subject:"seed swap"
//! field    = "from" / "to" / "with" / "subject" / "body" / "attachment" / "list"
//!          / "protocol" / "account" / "tag" / "conversation" / "thread" / "id"
//!          / "grade" / "is" / "has" / "date" / "privacy"
//! is       = "encrypted" / "signed" / "unread" / "flagged" / "seen" / "answered"
//! has      = "attachment"
//! date     = day [".." [day]] / ".." day            date:2024-01..2024-06  date:30d..
//! day      = YYYY / YYYY-MM / YYYY-MM-DD / N ("d" / "w" / "m" / "y")   (N units ago)
//! privacy  = ("<" / "<=" / ">" / ">=") N / N ".." N / N               privacy:<40
//! ; "(" and NOT / "-" nest at most 100 deep together: -(-(a)) is 3 deep
//! ```
//!
//! `*` alone is every message, as the empty query is. `field:( … )` gives the field to each
//! term inside that names none, as notmuch does: `from:(alice OR carol)` is `from:alice OR
//! from:carol`.
//!
//! `to:` matches To, Cc and Bcc; `with:` anyone in the message, on any protocol, and every
//! identity of the contact it names (`with:alice@example.org` also finds her other
//! addresses and handles once they are linked, `with:"Alice Liddell"` by name); `is:unread`
//! is the absence of the `seen` flag. A date range includes both ends: `date:2024-01..2024-06`
//! runs from the first second of January to the last of June.
//!
//! Parentheses and NOTs nest at most [`MAX_DEPTH`] deep (the grammar's last line): a deeper
//! query is an error, not a parser (or a search) that recurses until the stack runs out.

use crate::store::query::{KeywordField, Query, TextField};

/// The error returned for a query that cannot be parsed: what is wrong, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: {message}")]
pub struct Error {
    /// 1-based column of the mistake, in characters.
    pub column: usize,
    pub message: String,
}

/// How deep parentheses and NOT (or `-`) may nest, together: `-(-(a))` is 3 deep.
pub const MAX_DEPTH: usize = 100;

/// The words of `is:` and `has:`, as indexed.
pub const STATES: &[&str] = &[
    "encrypted",
    "signed",
    "unread",
    "flagged",
    "seen",
    "answered",
    "attachment",
];

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Open,
    Close,
    Not,
    And,
    Or,
    /// `field:(`: the terms up to the matching `)` take the field unless they name one.
    FieldOpen(String),
    /// `field:` and its value, or a bare value; `quoted` when the value was in quotes.
    Term {
        field: Option<String>,
        value: String,
        quoted: bool,
        /// Column of the value, for errors about it.
        value_column: usize,
    },
}

/// Parses `text`; `now` (Unix seconds) anchors relative dates such as `date:30d..`.
pub fn parse(text: &str, now: i64) -> Result<Query, Error> {
    let tokens = tokenize(text)?;
    if tokens.is_empty() {
        return Ok(Query::All);
    }
    let mut parser = Parser {
        tokens,
        at: 0,
        depth: 0,
        field: None,
        now,
        end_column: text.chars().count() + 1,
    };
    let query = parser.or()?;
    match parser.tokens.get(parser.at) {
        None => Ok(query),
        Some((column, Token::Close)) => Err(error(*column, "unmatched ')'")),
        Some((column, _)) => Err(error(*column, "unexpected input")),
    }
}

fn error(column: usize, message: impl Into<String>) -> Error {
    Error {
        column,
        message: message.into(),
    }
}

fn tokenize(text: &str) -> Result<Vec<(usize, Token)>, Error> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut at = 0;
    while at < chars.len() {
        let column = at + 1;
        match chars[at] {
            c if c.is_whitespace() => at += 1,
            '(' => {
                tokens.push((column, Token::Open));
                at += 1;
            }
            ')' => {
                tokens.push((column, Token::Close));
                at += 1;
            }
            '-' if chars.get(at + 1).is_some_and(|c| !c.is_whitespace()) => {
                tokens.push((column, Token::Not));
                at += 1;
            }
            _ => {
                let start = at;
                let mut field = None;
                // A word runs to white space or a parenthesis; `field:` may start it.
                while at < chars.len() && !chars[at].is_whitespace() && !"()\"".contains(chars[at])
                {
                    if chars[at] == ':' && field.is_none() {
                        field = Some(chars[start..at].iter().collect::<String>());
                        at += 1;
                        break;
                    }
                    at += 1;
                }
                if let Some(field) = &field
                    && chars.get(at) == Some(&'(')
                {
                    tokens.push((column, Token::FieldOpen(field.clone())));
                    at += 1;
                    continue;
                }
                let value_start = at;
                let (value, quoted) = if chars.get(at) == Some(&'"') {
                    let close = chars[at + 1..]
                        .iter()
                        .position(|&c| c == '"')
                        .ok_or_else(|| error(at + 1, "unterminated quote"))?;
                    let value: String = chars[at + 1..at + 1 + close].iter().collect();
                    at += close + 2;
                    (value, true)
                } else {
                    let begin = if field.is_some() { at } else { start };
                    while at < chars.len()
                        && !chars[at].is_whitespace()
                        && !"()".contains(chars[at])
                    {
                        at += 1;
                    }
                    (chars[begin..at].iter().collect::<String>(), false)
                };
                let token = match (field.is_none() && !quoted, value.as_str()) {
                    (true, "AND") => Token::And,
                    (true, "OR") => Token::Or,
                    (true, "NOT") => Token::Not,
                    _ => Token::Term {
                        field,
                        value,
                        quoted,
                        value_column: value_start + 1,
                    },
                };
                tokens.push((column, token));
            }
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<(usize, Token)>,
    at: usize,
    /// Parentheses and NOTs open around the token at `at`.
    depth: usize,
    /// The field of the innermost `field:( … )` open around the token at `at`.
    field: Option<String>,
    now: i64,
    end_column: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at).map(|(_, t)| t)
    }

    fn column(&self) -> usize {
        self.tokens
            .get(self.at)
            .map_or(self.end_column, |(c, _)| *c)
    }

    fn or(&mut self) -> Result<Query, Error> {
        let mut parts = vec![self.and()?];
        while self.peek() == Some(&Token::Or) {
            self.at += 1;
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Query::Or(parts)
        })
    }

    fn and(&mut self) -> Result<Query, Error> {
        let mut parts = vec![self.unary()?];
        loop {
            match self.peek() {
                Some(Token::And) => {
                    self.at += 1;
                    parts.push(self.unary()?);
                }
                Some(Token::Open | Token::FieldOpen(_) | Token::Not | Token::Term { .. }) => {
                    parts.push(self.unary()?)
                }
                _ => break,
            }
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Query::And(parts)
        })
    }

    /// Parses what `inner` parses one level deeper, or fails at `column` (the `(` or NOT
    /// that opens the level) when that is too deep.
    fn nested(
        &mut self,
        column: usize,
        inner: impl FnOnce(&mut Parser) -> Result<Query, Error>,
    ) -> Result<Query, Error> {
        if self.depth == MAX_DEPTH {
            return Err(error(
                column,
                format!("parentheses and NOTs nest more than {MAX_DEPTH} deep"),
            ));
        }
        self.depth += 1;
        let parsed = inner(self);
        self.depth -= 1;
        parsed
    }

    fn unary(&mut self) -> Result<Query, Error> {
        if self.peek() == Some(&Token::Not) {
            let column = self.column();
            self.at += 1;
            return self.nested(column, |parser| Ok(Query::Not(Box::new(parser.unary()?))));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Query, Error> {
        let column = self.column();
        match self.tokens.get(self.at).cloned().map(|(_, t)| t) {
            Some(Token::Open) => {
                self.at += 1;
                let inner = self.nested(column, Parser::or)?;
                if self.peek() != Some(&Token::Close) {
                    return Err(error(
                        self.column(),
                        format!("missing ')' for the '(' at column {column}"),
                    ));
                }
                self.at += 1;
                Ok(inner)
            }
            Some(Token::FieldOpen(field)) => {
                self.at += 1;
                let outer = self.field.replace(field);
                let inner = self.nested(column, Parser::or);
                self.field = outer;
                let inner = inner?;
                if self.peek() != Some(&Token::Close) {
                    return Err(error(
                        self.column(),
                        format!("missing ')' for the '(' at column {column}"),
                    ));
                }
                self.at += 1;
                Ok(inner)
            }
            Some(Token::Term {
                field,
                value,
                quoted,
                value_column,
            }) => {
                self.at += 1;
                term(
                    field.as_deref().or(self.field.as_deref()),
                    &value,
                    quoted,
                    column,
                    value_column,
                    self.now,
                )
            }
            Some(Token::Close) => Err(error(column, "unmatched ')'")),
            Some(Token::And | Token::Or) => {
                Err(error(column, "expected a term before this operator"))
            }
            Some(Token::Not) | None => Err(error(column, "expected a term")),
        }
    }
}

fn term(
    field: Option<&str>,
    value: &str,
    quoted: bool,
    column: usize,
    value_column: usize,
    now: i64,
) -> Result<Query, Error> {
    if value.is_empty() {
        return Err(error(value_column, "empty value"));
    }
    if field.is_none() && !quoted && value == "*" {
        return Ok(Query::All);
    }
    let text = |field| {
        Ok(Query::Text {
            field,
            words: value.to_string(),
            phrase: quoted,
        })
    };
    let keyword = |field| {
        Ok(Query::Keyword {
            field,
            value: value.to_string(),
        })
    };
    match field {
        None => text(None),
        Some("from") => text(Some(TextField::From)),
        Some("to") => text(Some(TextField::To)),
        Some("with") => text(Some(TextField::With)),
        Some("subject") => text(Some(TextField::Subject)),
        Some("body") => text(Some(TextField::Body)),
        Some("attachment") => text(Some(TextField::Attachment)),
        Some("list") => text(Some(TextField::List)),
        Some("protocol") => keyword(KeywordField::Protocol),
        Some("account") => keyword(KeywordField::Account),
        Some("tag") => keyword(KeywordField::Tag),
        Some("conversation") => keyword(KeywordField::Conversation),
        Some("thread") => keyword(KeywordField::Thread),
        Some("id") => keyword(KeywordField::Id),
        Some("grade") => match value.to_ascii_uppercase().as_str() {
            grade @ ("A" | "B" | "C" | "D" | "E") => Ok(Query::Keyword {
                field: KeywordField::Grade,
                value: grade.to_string(),
            }),
            _ => Err(error(value_column, "a grade is A, B, C, D or E")),
        },
        Some(kind @ ("is" | "has")) => {
            let valid: &[&str] = if kind == "has" {
                &["attachment"]
            } else {
                &STATES[..6]
            };
            if valid.contains(&value) {
                keyword(KeywordField::State)
            } else {
                Err(error(
                    value_column,
                    format!("{kind}: takes {}", valid.join(", ")),
                ))
            }
        }
        Some("date") => date(value, value_column, now),
        Some("privacy") => privacy(value, value_column),
        Some(other) => Err(error(
            column,
            format!(
                "unknown field {other:?}; fields: from, to, with, subject, body, attachment, list, protocol, account, tag, conversation, thread, id, grade, is, has, date, privacy"
            ),
        )),
    }
}

fn date(value: &str, column: usize, now: i64) -> Result<Query, Error> {
    let (low, high) = match value.split_once("..") {
        Some((low, high)) => (low, Some(high)),
        None => (value, None),
    };
    let bound = |text: &str, offset: usize, end: bool| -> Result<Option<i64>, Error> {
        if text.is_empty() {
            return Ok(None);
        }
        day(text, end, now).map(Some).ok_or_else(|| {
            error(
                column + offset,
                format!("not a date: {text:?} (YYYY, YYYY-MM, YYYY-MM-DD or Nd, Nw, Nm, Ny)"),
            )
        })
    };
    let from = bound(low, 0, false)?;
    let to = match high {
        // A single day or month means all of it.
        None => bound(low, 0, true)?,
        Some(high) => bound(high, low.chars().count() + 2, true)?,
    };
    if from.is_none() && to.is_none() {
        return Err(error(column, "a date range needs at least one end"));
    }
    Ok(Query::Date { from, to })
}

/// A day, month or year as Unix seconds: its first second, or its last when `end`. `Nd`,
/// `Nw`, `Nm` and `Ny` are that long before `now`.
fn day(text: &str, end: bool, now: i64) -> Option<i64> {
    if let Some(unit) = text.chars().last().filter(|c| "dwmy".contains(*c)) {
        let count: i64 = text[..text.len() - 1].parse().ok()?;
        let days = match unit {
            'd' => 1,
            'w' => 7,
            'm' => 30,
            _ => 365,
        };
        // A span too long to count in seconds is not a date (fuzzing found `date:…m`
        // overflowing here).
        return count
            .checked_mul(days * 86_400)
            .and_then(|span| now.checked_sub(span));
    }
    let mut parts = text.split('-');
    let year: u16 = parts.next()?.parse().ok()?;
    let month: Option<u8> = parts.next().map(str::parse).transpose().ok()?;
    let day: Option<u8> = parts.next().map(str::parse).transpose().ok()?;
    if parts.next().is_some() || !(1..=12).contains(&month.unwrap_or(1)) {
        return None;
    }
    let start = |y: u16, m: u8, d: u8| {
        mail_parser::DateTime {
            year: y,
            month: m,
            day: d,
            ..mail_parser::DateTime::default()
        }
        .to_timestamp()
    };
    let first = start(year, month.unwrap_or(1), day.unwrap_or(1));
    if !(1..=31).contains(&day.unwrap_or(1)) {
        return None;
    }
    if !end {
        return Some(first);
    }
    let next = match (month, day) {
        (_, Some(_)) => first + 86_400,
        (Some(12), None) => start(year + 1, 1, 1),
        (Some(m), None) => start(year, m + 1, 1),
        (None, _) => start(year + 1, 1, 1),
    };
    Some(next - 1)
}

fn privacy(value: &str, column: usize) -> Result<Query, Error> {
    let number = |text: &str, offset: usize| {
        text.parse::<u8>()
            .ok()
            .filter(|n| *n <= 100)
            .ok_or_else(|| {
                error(
                    column + offset,
                    format!("not a score from 0 to 100: {text:?}"),
                )
            })
    };
    let (from, to) = if let Some(rest) = value.strip_prefix("<=") {
        (0, number(rest, 2)?)
    } else if let Some(rest) = value.strip_prefix(">=") {
        (number(rest, 2)?, 100)
    } else if let Some(rest) = value.strip_prefix('<') {
        (
            0,
            number(rest, 1)?
                .checked_sub(1)
                .ok_or_else(|| error(column, "nothing is below 0"))?,
        )
    } else if let Some(rest) = value.strip_prefix('>') {
        let n = number(rest, 1)?;
        (
            n.checked_add(1)
                .filter(|n| *n <= 100)
                .ok_or_else(|| error(column, "nothing is above 100"))?,
            100,
        )
    } else if let Some((low, high)) = value.split_once("..") {
        (number(low, 0)?, number(high, low.len() + 2)?)
    } else {
        let n = number(value, 0)?;
        (n, n)
    };
    Ok(Query::Privacy { from, to })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2024-07-01T00:00:00Z
    const NOW: i64 = 1_719_792_000;

    fn shown(text: &str) -> String {
        parse(text, NOW)
            .map(|q| q.to_string())
            .unwrap_or_else(|e| format!("error {e}"))
    }

    #[test]
    fn a_relative_date_too_long_to_count_is_an_error_not_an_overflow() {
        // The input libFuzzer found (scripts/fuzz, query_parse).
        assert!(shown("date:003875820018420m").starts_with("error"));
        assert!(shown(&format!("date:{}y", i64::MAX)).starts_with("error"));
        assert!(!shown("date:30d").starts_with("error"));
    }

    #[test]
    fn every_example_of_the_grammar_parses() {
        let doc = include_str!("query.rs");
        let grammar = doc
            .lines()
            .skip_while(|l| !l.contains("```text"))
            .skip(1)
            .take_while(|l| !l.contains("```"));
        let mut examples = 0;
        for line in grammar {
            // The examples are the right-hand column, after two or more spaces.
            let Some((_, example)) = line.trim_start_matches("//!").split_once("   ") else {
                continue;
            };
            for example in example
                .trim()
                .split("   ")
                .map(str::trim)
                .filter(|e| !e.is_empty())
            {
                if example.starts_with('(') && example.ends_with("ago)") {
                    continue;
                }
                assert!(parse(example, NOW).is_ok(), "{example}: {}", shown(example));
                examples += 1;
            }
        }
        assert!(examples >= 12, "found {examples} examples");
    }

    #[test]
    fn a_star_is_everything_and_a_field_group_gives_its_field_to_each_term() {
        assert_eq!(shown("*"), "(all)");
        assert_eq!(shown("\"*\""), "text:phrase(\"*\")");
        assert_eq!(
            shown("from:(alice OR carol)"),
            shown("(from:alice OR from:carol)")
        );
        assert_eq!(
            shown("from:(alice -to:bob) lunch"),
            shown("(from:alice -to:bob) lunch")
        );
        assert_eq!(
            shown("from:(alice"),
            "error column 12: missing ')' for the '(' at column 1"
        );
    }

    #[test]
    fn words_fields_and_phrases() {
        assert_eq!(shown("alice"), "text:words(\"alice\")");
        assert_eq!(shown("from:alice"), "from:words(\"alice\")");
        assert_eq!(
            shown("subject:\"seed swap\""),
            "subject:phrase(\"seed swap\")"
        );
        assert_eq!(shown("\"seed swap\""), "text:phrase(\"seed swap\")");
        assert_eq!(shown("tag:work"), "tag=\"work\"");
        assert_eq!(shown("grade:b"), "grade=\"B\"");
        assert_eq!(shown("is:unread"), "state=\"unread\"");
        assert_eq!(shown("has:attachment"), "state=\"attachment\"");
        assert_eq!(shown(""), "(all)");
    }

    #[test]
    fn not_binds_tighter_than_and_and_and_tighter_than_or() {
        assert_eq!(
            shown("a b OR c"),
            "(or (and text:words(\"a\") text:words(\"b\")) text:words(\"c\"))"
        );
        assert_eq!(
            shown("a OR b c"),
            "(or text:words(\"a\") (and text:words(\"b\") text:words(\"c\")))"
        );
        assert_eq!(
            shown("NOT a b"),
            "(and (not text:words(\"a\")) text:words(\"b\"))"
        );
        assert_eq!(
            shown("-a AND b"),
            "(and (not text:words(\"a\")) text:words(\"b\"))"
        );
        assert_eq!(
            shown("(a OR b) c"),
            "(and (or text:words(\"a\") text:words(\"b\")) text:words(\"c\"))"
        );
        assert_eq!(
            shown("NOT (a OR b)"),
            "(not (or text:words(\"a\") text:words(\"b\")))"
        );
    }

    #[test]
    fn dates_absolute_relative_and_open() {
        assert_eq!(
            shown("date:2024-01..2024-06"),
            "date[2024-01-01T00:00:00Z..2024-06-30T23:59:59Z]"
        );
        assert_eq!(
            shown("date:2024-02-29"),
            "date[2024-02-29T00:00:00Z..2024-02-29T23:59:59Z]"
        );
        assert_eq!(
            shown("date:2023"),
            "date[2023-01-01T00:00:00Z..2023-12-31T23:59:59Z]"
        );
        assert_eq!(shown("date:30d.."), "date[2024-06-01T00:00:00Z..*]");
        assert_eq!(shown("date:..2024-12"), "date[*..2024-12-31T23:59:59Z]");
    }

    #[test]
    fn privacy_comparisons_and_ranges() {
        assert_eq!(shown("privacy:<40"), "privacy[0..39]");
        assert_eq!(shown("privacy:<=40"), "privacy[0..40]");
        assert_eq!(shown("privacy:>80"), "privacy[81..100]");
        assert_eq!(shown("privacy:40..60"), "privacy[40..60]");
        assert_eq!(shown("privacy:63"), "privacy[63..63]");
    }

    #[test]
    fn errors_point_at_the_column_of_the_mistake() {
        let column = |text: &str| parse(text, NOW).unwrap_err().column;
        assert_eq!(column("from:alice frm:bob"), 12);
        assert_eq!(column("(a OR b"), 8);
        assert_eq!(column("a OR b)"), 7);
        assert_eq!(column("subject:\"open"), 9);
        assert_eq!(column("date:2024-13"), 6);
        assert_eq!(column("date:2024..soon"), 12);
        assert_eq!(column("privacy:<abc"), 10);
        assert_eq!(column("is:sleepy"), 4);
        assert_eq!(column("a AND"), 6);
        assert_eq!(column("OR a"), 1);
        assert_eq!(column("grade:F"), 7);
        let error = parse("frm:bob", NOW).unwrap_err().to_string();
        assert!(
            error.starts_with("column 1: unknown field \"frm\""),
            "{error}"
        );
    }

    #[test]
    fn nesting_deeper_than_the_limit_is_an_error_not_a_stack_overflow() {
        let documented = format!("nest at most {MAX_DEPTH} deep together");
        let grammar = include_str!("query.rs").split("```").nth(1).unwrap();
        assert!(grammar.contains(&documented), "the help shows the grammar");
        let nots = |n: usize| format!("{}a", "-".repeat(n));
        let parens = |n: usize| format!("{}a{}", "(".repeat(n), ")".repeat(n));
        assert!(parse(&nots(MAX_DEPTH), NOW).is_ok());
        assert!(parse(&parens(MAX_DEPTH), NOW).is_ok());
        let mixed = format!(
            "{}a{}",
            "-(".repeat(MAX_DEPTH / 2),
            ")".repeat(MAX_DEPTH / 2)
        );
        assert!(parse(&mixed, NOW).is_ok());
        for deep in [
            nots(MAX_DEPTH + 1),
            parens(MAX_DEPTH + 1),
            nots(2_000),
            parens(10_000),
        ] {
            let error = parse(&deep, NOW).unwrap_err();
            assert!(error.message.contains("nest more than 100 deep"), "{error}");
        }
        assert_eq!(parse(&nots(2_000), NOW).unwrap_err().column, MAX_DEPTH + 1);
        assert_eq!(
            parse(&parens(MAX_DEPTH + 1), NOW).unwrap_err().column,
            MAX_DEPTH + 1
        );
    }
}
