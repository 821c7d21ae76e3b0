//! Dates mail-parser's RFC 5322 reader gives up on, read tolerantly: ISO 8601 / RFC 3339
//! (`2024-01-15T10:00:00+01:00`) and C `asctime` (`Mon Jan 15 10:00:00 2024`, taken as UTC),
//! both written by real mail software in the Date header.

use mail_parser::DateTime;

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// The date in `text`, when it is one of the forms above and names a real time.
pub(crate) fn parse_lenient(text: &str) -> Option<DateTime> {
    let text = text.trim();
    let date = iso8601(text).or_else(|| asctime(text))?;
    date.is_valid().then_some(date)
}

fn number<T: std::str::FromStr>(text: &str) -> Option<T> {
    text.parse().ok()
}

/// `HH:MM[:SS]`.
fn time_of_day(text: &str) -> Option<(u8, u8, u8)> {
    let mut parts = text.split(':');
    let hour = number(parts.next()?)?;
    let minute = number(parts.next()?)?;
    let second = parts
        .next()
        .map_or(Some(0), |s| number(s.get(..2).unwrap_or(s)))?;
    Some((hour, minute, second))
}

fn iso8601(text: &str) -> Option<DateTime> {
    let (date, rest) = text.split_at_checked(10)?;
    let mut ymd = date.split('-');
    let (year, month, day) = (
        number(ymd.next()?)?,
        number(ymd.next()?)?,
        number(ymd.next()?)?,
    );
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    let zone_at = rest.find(['Z', 'z', '+', '-']).unwrap_or(rest.len());
    let (clock, zone) = rest.split_at(zone_at);
    let (hour, minute, second) = time_of_day(clock.trim())?;
    let (tz_before_gmt, tz_hour, tz_minute) = match zone.trim() {
        "" | "Z" | "z" => (false, 0, 0),
        zone => {
            let (sign, digits) = zone.split_at(1);
            let digits: String = digits.chars().filter(char::is_ascii_digit).collect();
            (
                sign == "-",
                number(digits.get(..2)?)?,
                number(digits.get(2..4)?)?,
            )
        }
    };
    Some(DateTime {
        year,
        month,
        day,
        hour,
        minute,
        second,
        tz_before_gmt,
        tz_hour,
        tz_minute,
    })
}

fn asctime(text: &str) -> Option<DateTime> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let [_weekday, month, day, clock, year, ..] = words.as_slice() else {
        return None;
    };
    let month = MONTHS
        .iter()
        .position(|m| month.get(..3).is_some_and(|p| p.eq_ignore_ascii_case(m)))?;
    let (hour, minute, second) = time_of_day(clock)?;
    Some(DateTime {
        year: number(year)?,
        month: month as u8 + 1,
        day: number(day)?,
        hour,
        minute,
        second,
        ..DateTime::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::email::utc;

    fn read(text: &str) -> Option<String> {
        parse_lenient(text).map(|d| utc(&d))
    }

    #[test]
    fn iso_8601_dates_with_offsets_are_read() {
        assert_eq!(
            read("2024-01-15T10:00:00+01:30").as_deref(),
            Some("2024-01-15T08:30:00Z")
        );
        assert_eq!(
            read("2024-01-15 10:00:00Z").as_deref(),
            Some("2024-01-15T10:00:00Z")
        );
        assert_eq!(
            read("2024-01-15T10:00:00.123-05:00").as_deref(),
            Some("2024-01-15T15:00:00Z")
        );
    }

    #[test]
    fn asctime_dates_are_read_as_utc() {
        assert_eq!(
            read("Mon Jan 15 10:00:00 2024").as_deref(),
            Some("2024-01-15T10:00:00Z")
        );
        assert_eq!(
            read("Tue Feb  6 09:05:01 2024").as_deref(),
            Some("2024-02-06T09:05:01Z")
        );
    }

    #[test]
    fn nonsense_is_not_a_date() {
        for text in [
            "",
            "yesterday",
            "2024-13-45T99:00:00Z",
            "Mon Foo 1 10:00:00 2024",
            "2024-01-1",
        ] {
            assert_eq!(read(text), None, "{text}");
        }
    }
}
