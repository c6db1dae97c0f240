//! When a file was born, last modified and last changed, as the filesystem (or the archive that
//! held it) says: [`FileTimes`] of [`Timestamp`]s, written as RFC 3339 UTC. A time the source
//! does not keep is absent, never guessed: a filesystem without a birth time (`STATX_BTIME`)
//! gives none, a tar member gives its stored modification time only, an image layer the
//! `created` time of the history line that made it.
//!
//! Dates are proleptic Gregorian in UTC, converted with the days-from-civil algorithms of
//! Howard Hinnant's "chrono-Compatible Low-Level Date Algorithms": no date crate is needed for
//! seconds, and none is in the dependency tree.

use serde::Serialize;

/// The first second RFC 3339 can write (`0000-01-01T00:00:00Z`).
const MIN_SECS: i64 = -62_167_219_200;
/// The last second RFC 3339 can write (`9999-12-31T23:59:59Z`).
const MAX_SECS: i64 = 253_402_300_799;

/// A point in time: seconds since the Unix epoch (UTC) and nanoseconds, within the years
/// RFC 3339 can write (0000 to 9999).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    secs: i64,
    nanos: u32,
}

impl Timestamp {
    /// The time `secs` seconds and `nanos` nanoseconds after the epoch; `None` outside the
    /// years 0000 to 9999 or with `nanos` of a second or more.
    pub fn new(secs: i64, nanos: u32) -> Option<Timestamp> {
        ((MIN_SECS..=MAX_SECS).contains(&secs) && nanos < 1_000_000_000)
            .then_some(Timestamp { secs, nanos })
    }

    /// The time `secs` whole seconds after the epoch (see [`Timestamp::new`]).
    pub fn from_secs(secs: i64) -> Option<Timestamp> {
        Timestamp::new(secs, 0)
    }

    /// Now, by the system clock.
    pub fn now() -> Timestamp {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Timestamp::from_secs(i64::try_from(secs).unwrap_or(MAX_SECS).min(MAX_SECS))
            .unwrap_or(Timestamp { secs: 0, nanos: 0 })
    }

    /// Whole seconds since the epoch.
    pub fn secs(self) -> i64 {
        self.secs
    }

    /// `YYYY-MM-DDTHH:MM:SSZ`, to the second.
    pub fn rfc3339(self) -> String {
        let (date, rem) = (self.secs.div_euclid(86_400), self.secs.rem_euclid(86_400));
        let (year, month, day) = civil_from_days(date);
        format!(
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
            rem / 3600,
            rem % 3600 / 60,
            rem % 60
        )
    }

    /// Parses an RFC 3339 date-time (`2026-03-24T10:52:00Z`, `2026-03-24T12:52:00.5+02:00`; a
    /// space or lower-case `t` for the `T`, a lower-case `z`) or a plain date (`2026-03-24`,
    /// midnight UTC).
    pub fn parse(text: &str) -> Result<Timestamp, String> {
        let text = text.trim();
        let bytes = text.as_bytes();
        let invalid = || {
            format!(
                "`{text}` is not a date: expected `YYYY-MM-DD` or an RFC 3339 time such as `2026-03-24T10:52:00Z`"
            )
        };
        let num = |at: usize, len: usize| -> Option<i64> {
            let part = bytes.get(at..at + len)?;
            part.iter()
                .all(u8::is_ascii_digit)
                .then(|| part.iter().fold(0i64, |n, d| n * 10 + i64::from(d - b'0')))
        };
        let sep = |at: usize, c: u8| bytes.get(at) == Some(&c);
        let (Some(year), true, Some(month), true, Some(day)) =
            (num(0, 4), sep(4, b'-'), num(5, 2), sep(7, b'-'), num(8, 2))
        else {
            return Err(invalid());
        };
        if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
            return Err(format!("`{text}` is not a date: no such day"));
        }
        let mut secs = days_from_civil(year, month, day) * 86_400;
        if bytes.len() > 10 {
            if !matches!(bytes[10], b'T' | b't' | b' ') {
                return Err(invalid());
            }
            let (Some(hour), true, Some(minute), true, Some(second)) = (
                num(11, 2),
                sep(13, b':'),
                num(14, 2),
                sep(16, b':'),
                num(17, 2),
            ) else {
                return Err(invalid());
            };
            // 60: a leap second, which Unix time folds into the next
            if hour > 23 || minute > 59 || second > 60 {
                return Err(format!(
                    "`{text}` is not a time: no such hour, minute or second"
                ));
            }
            secs += hour * 3600 + minute * 60 + second;
            let mut at = 19;
            if sep(at, b'.') {
                at += 1;
                let digits = bytes[at..]
                    .iter()
                    .take_while(|b| b.is_ascii_digit())
                    .count();
                if digits == 0 {
                    return Err(invalid());
                }
                at += digits; // fractions of a second are below what a timeline orders by
            }
            match bytes.get(at) {
                Some(b'Z' | b'z') if at + 1 == bytes.len() => {}
                Some(&sign @ (b'+' | b'-')) if bytes.len() == at + 6 => {
                    let (Some(oh), true, Some(om)) =
                        (num(at + 1, 2), sep(at + 3, b':'), num(at + 4, 2))
                    else {
                        return Err(invalid());
                    };
                    if oh > 23 || om > 59 {
                        return Err(format!("`{text}` has no such UTC offset"));
                    }
                    let offset = oh * 3600 + om * 60;
                    // local time = UTC + offset
                    secs -= if sign == b'+' { offset } else { -offset };
                }
                _ => {
                    return Err(format!(
                        "`{text}` has no time zone: end it with `Z` (UTC) or an offset such as `+02:00`"
                    ));
                }
            }
        }
        Timestamp::from_secs(secs).ok_or_else(|| format!("`{text}` is out of range"))
    }

    /// What `--since` takes: a date or time as [`Timestamp::parse`] reads it, or a span back
    /// from `now` (`90m`, `36h`, `7d`, `2w`).
    pub fn parse_since(text: &str, now: Timestamp) -> Result<Timestamp, String> {
        let t = text.trim();
        if let Some(unit) = t.chars().last().filter(|c| "smhdw".contains(*c))
            && t.len() > 1
            && t[..t.len() - 1].bytes().all(|b| b.is_ascii_digit())
        {
            let n: i64 = t[..t.len() - 1]
                .parse()
                .map_err(|_| format!("`{t}` is too long a span"))?;
            let unit = match unit {
                's' => 1,
                'm' => 60,
                'h' => 3600,
                'd' => 86_400,
                _ => 7 * 86_400,
            };
            return n
                .checked_mul(unit)
                .and_then(|span| now.secs.checked_sub(span))
                .and_then(Timestamp::from_secs)
                .ok_or_else(|| format!("`{t}` reaches back before the year 0000"));
        }
        Timestamp::parse(t)
            .map_err(|e| format!("{e}, or a span back from now such as `7d`, `36h` or `90m`"))
    }
}

impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.rfc3339())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.rfc3339())
    }
}

/// What a file's source says of its times. Every field is absent where the source keeps no
/// such time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FileTimes {
    /// When the file was created (`statx` `btime`), where the filesystem records it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub birth: Option<Timestamp>,
    /// When its content was last written (`mtime`; a tar member's stored time). Anyone who
    /// can write the file can set it to any time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modified: Option<Timestamp>,
    /// When its inode last changed (`ctime`: a write, a rename, a `chmod`, a `touch` that set
    /// the modified time back). Only the kernel sets it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changed: Option<Timestamp>,
    /// For a file of a container image: when the layer that holds it was created (the image
    /// config's `history[].created`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer_created: Option<Timestamp>,
}

impl FileTimes {
    /// Whether no time is known.
    pub fn is_empty(&self) -> bool {
        self.all().next().is_none()
    }

    /// Every known time.
    pub fn all(&self) -> impl Iterator<Item = Timestamp> {
        [self.birth, self.modified, self.changed, self.layer_created]
            .into_iter()
            .flatten()
    }

    /// The latest known time: the last thing that happened to the file.
    pub fn latest(&self) -> Option<Timestamp> {
        self.all().max()
    }

    /// The times of a `statx` result: those its mask says were filled. A birth time of
    /// exactly the epoch is what some filesystems answer for "not recorded": absent.
    #[cfg(target_os = "linux")]
    pub fn of_statx(st: &rustix::fs::Statx) -> FileTimes {
        use rustix::fs::StatxFlags;
        let has = |flag: StatxFlags| st.stx_mask & flag.bits() != 0;
        let at = |t: &rustix::fs::StatxTimestamp| Timestamp::new(t.tv_sec, t.tv_nsec);
        FileTimes {
            birth: has(StatxFlags::BTIME)
                .then(|| at(&st.stx_btime))
                .flatten()
                .filter(|t| *t != Timestamp { secs: 0, nanos: 0 }),
            modified: has(StatxFlags::MTIME).then(|| at(&st.stx_mtime)).flatten(),
            changed: has(StatxFlags::CTIME).then(|| at(&st.stx_ctime)).flatten(),
            layer_created: None,
        }
    }

    /// The times of a `stat` result: no birth time on Linux (`stat` has none), macOS' and
    /// the BSDs' `st_birthtime`.
    #[cfg(unix)]
    #[cfg_attr(
        target_os = "linux",
        expect(
            clippy::unnecessary_cast,
            reason = "`time_t` and `long` differ between platforms"
        )
    )]
    pub fn of_stat(st: &rustix::fs::Stat) -> FileTimes {
        let at = |secs: i64, nanos: i64| Timestamp::new(secs, u32::try_from(nanos).ok()?);
        #[cfg(any(target_vendor = "apple", target_os = "freebsd"))]
        let birth = at(st.st_birthtime as i64, st.st_birthtime_nsec as i64);
        #[cfg(not(any(target_vendor = "apple", target_os = "freebsd")))]
        let birth = None;
        FileTimes {
            birth,
            modified: at(st.st_mtime as i64, st.st_mtime_nsec as i64),
            changed: at(st.st_ctime as i64, st.st_ctime_nsec as i64),
            layer_created: None,
        }
    }

    /// The times Windows keeps of a file: its creation (birth) and last write; it has no
    /// inode change time.
    #[cfg(windows)]
    pub fn of_metadata(m: &std::fs::Metadata) -> FileTimes {
        let at = |t: std::io::Result<std::time::SystemTime>| {
            let d = t.ok()?.duration_since(std::time::UNIX_EPOCH).ok()?;
            Timestamp::new(i64::try_from(d.as_secs()).ok()?, d.subsec_nanos())
        };
        FileTimes {
            birth: at(m.created()),
            modified: at(m.modified()),
            changed: None,
            layer_created: None,
        }
    }
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (month + 9) % 12; // March is 0
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date of a day since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_secs(secs).unwrap()
    }

    #[test]
    fn formats_the_epoch_leap_days_and_the_ends_of_the_range() {
        assert_eq!(at(0).rfc3339(), "1970-01-01T00:00:00Z");
        assert_eq!(at(-1).rfc3339(), "1969-12-31T23:59:59Z");
        assert_eq!(at(951_782_400).rfc3339(), "2000-02-29T00:00:00Z");
        // 1900 and 2100 are not leap years, 2000 and 2400 are
        assert_eq!(at(-2_203_891_200).rfc3339(), "1900-03-01T00:00:00Z");
        assert_eq!(at(4_107_542_400).rfc3339(), "2100-03-01T00:00:00Z");
        assert_eq!(at(13_574_563_200).rfc3339(), "2400-02-29T00:00:00Z");
        assert_eq!(at(1_774_349_520).rfc3339(), "2026-03-24T10:52:00Z");
        assert_eq!(at(MIN_SECS).rfc3339(), "0000-01-01T00:00:00Z");
        assert_eq!(at(MAX_SECS).rfc3339(), "9999-12-31T23:59:59Z");
        assert_eq!(Timestamp::from_secs(MAX_SECS + 1), None);
        assert_eq!(Timestamp::from_secs(MIN_SECS - 1), None);
        assert_eq!(Timestamp::new(0, 1_000_000_000), None);
    }

    #[test]
    fn every_day_of_four_centuries_round_trips() {
        let (start, end) = (days_from_civil(1900, 1, 1), days_from_civil(2300, 1, 1));
        for days in start..end {
            let (y, m, d) = civil_from_days(days);
            assert!(d >= 1 && d <= days_in_month(y, m), "{y}-{m}-{d}");
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(end - start, 146_097);
    }

    #[test]
    fn parses_dates_and_rfc3339_times() {
        let p = |t: &str| Timestamp::parse(t).map(|t| t.secs());
        assert_eq!(p("1970-01-01"), Ok(0));
        assert_eq!(p("2026-03-24"), Ok(1_774_310_400));
        assert_eq!(p("2026-03-24T10:52:00Z"), Ok(1_774_349_520));
        assert_eq!(p("2026-03-24t10:52:00z"), Ok(1_774_349_520));
        assert_eq!(p("2026-03-24 10:52:00Z"), Ok(1_774_349_520));
        assert_eq!(p("2026-03-24T12:52:00.123456+02:00"), Ok(1_774_349_520));
        assert_eq!(p("2026-03-24T05:22:00-05:30"), Ok(1_774_349_520));
        assert_eq!(p("2000-02-29"), Ok(951_782_400));
        assert_eq!(p("9999-12-31T23:59:59Z"), Ok(MAX_SECS));
        assert_eq!(p("1969-12-31T23:59:59Z"), Ok(-1));
        for bad in [
            "",
            "yesterday",
            "2026-3-24",
            "2026-02-30",
            "1900-02-29",
            "2026-13-01",
            "2026-03-24T10:52Z",
            "2026-03-24T10:52:00",
            "2026-03-24T24:00:00Z",
            "2026-03-24T10:52:00.Z",
            "2026-03-24T10:52:00+2:00",
            "2026-03-24T10:52:00Zjunk",
            "2026-03-24junk",
            "９９９９-01-01",
        ] {
            assert!(p(bad).is_err(), "{bad:?} parsed");
        }
        // the error says what is expected
        assert!(
            Timestamp::parse("yesterday")
                .unwrap_err()
                .contains("YYYY-MM-DD")
        );
    }

    #[test]
    fn since_takes_spans_back_from_now() {
        let now = at(1_774_349_520);
        let s = |t: &str| Timestamp::parse_since(t, now).map(|t| t.secs());
        assert_eq!(s("7d"), Ok(1_774_349_520 - 7 * 86_400));
        assert_eq!(s("36h"), Ok(1_774_349_520 - 36 * 3600));
        assert_eq!(s("90m"), Ok(1_774_349_520 - 90 * 60));
        assert_eq!(s("2w"), Ok(1_774_349_520 - 14 * 86_400));
        assert_eq!(s("0s"), Ok(1_774_349_520));
        assert_eq!(s("2026-03-24"), Ok(1_774_310_400));
        for bad in [
            "d",
            "7",
            "-7d",
            "7y",
            "99999999999999999999d",
            "9999999999999w",
        ] {
            assert!(s(bad).is_err(), "{bad:?} parsed");
        }
        assert!(s("7y").unwrap_err().contains("`7d`"));
    }

    #[test]
    fn times_serialise_only_what_is_known() {
        let t = FileTimes {
            modified: Some(at(0)),
            ..FileTimes::default()
        };
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            r#"{"modified":"1970-01-01T00:00:00Z"}"#
        );
        assert!(FileTimes::default().is_empty());
        assert_eq!(
            FileTimes {
                birth: Some(at(5)),
                changed: Some(at(9)),
                ..t
            }
            .latest(),
            Some(at(9))
        );
    }
}
