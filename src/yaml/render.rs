//! How a new scalar is written: plain when YAML reads the text back as the same value of the
//! intended type, else quoted.
//!
//! "The same type" is judged the way Helm's Go parser (YAML 1.1 rules) and YAML 1.2 parsers
//! both would: a string that either of them reads as a number, a boolean (`yes`, `on`, `y`…),
//! null or a date is quoted, so `tag: 1.10` never becomes the float 1.1.

/// Whether `text` written unquoted reads back as exactly `text` (ignoring its type), in a
/// block context or, when `in_flow`, inside a flow collection.
pub(super) fn is_plain_safe(text: &str, in_flow: bool) -> bool {
    let mut chars = text.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    let second = chars.next();
    let indicator_start = match first {
        // `-x`, `?x`, `:x` are plain; alone or before a space they are indicators.
        '-' | '?' | ':' => second.is_none_or(|c| c == ' ' || (in_flow && is_flow_indicator(c))),
        _ => "#,[]{}&*!|>'\"%@`".contains(first),
    };
    !indicator_start
        && !text.starts_with(' ')
        && !text.ends_with([' ', ':'])
        && !text.contains(": ")
        && !text.contains(" #")
        && !text.starts_with("---")
        && !text.starts_with("...")
        && !(in_flow && text.contains(is_flow_indicator))
        && text.chars().all(|c| {
            is_printable(c) && !matches!(c, '\t' | '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{feff}')
        })
}

fn is_flow_indicator(c: char) -> bool {
    matches!(c, ',' | '[' | ']' | '{' | '}')
}

/// YAML's printable characters, less the line breaks (`\n`, `\r`) a one-line scalar cannot hold.
fn is_printable(c: char) -> bool {
    matches!(c, '\t' | '\u{20}'..='\u{7e}' | '\u{85}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
}

/// Whether a plain scalar `text` is a string for both YAML 1.1 (Helm) and YAML 1.2 readers.
pub(super) fn reads_as_string(text: &str) -> bool {
    !is_null(text)
        && !is_bool(text)
        && !is_number(text)
        && !is_date(text)
        && text != "<<"
        && text != "="
}

/// Whether a plain scalar's text is YAML's null.
pub fn is_null(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

fn is_bool(text: &str) -> bool {
    matches!(
        text,
        "true"
            | "True"
            | "TRUE"
            | "false"
            | "False"
            | "FALSE"
            | "yes"
            | "Yes"
            | "YES"
            | "no"
            | "No"
            | "NO"
            | "on"
            | "On"
            | "ON"
            | "off"
            | "Off"
            | "OFF"
            | "y"
            | "Y"
            | "n"
            | "N"
    )
}

/// Integers (decimal, `0x`, `0o`, `0b`, YAML 1.1 octal `0755` and `_` separators, base 60
/// `1:30`) and floats (`1.5`, `1e3`, `.5`, `.inf`, `.nan`), signed or not.
fn is_number(text: &str) -> bool {
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    let lower = unsigned.to_ascii_lowercase();
    if matches!(lower.as_str(), ".inf" | ".nan")
        || (unsigned.len() < text.len() && matches!(lower.as_str(), "inf" | "infinity" | "nan"))
    {
        return true;
    }
    let digits = lower.replace('_', "");
    let radix = |prefix: &str, radix: u32| {
        digits
            .strip_prefix(prefix)
            .is_some_and(|rest| !rest.is_empty() && rest.chars().all(|c| c.is_digit(radix)))
    };
    radix("0x", 16)
        || radix("0o", 8)
        || radix("0b", 2)
        || is_base_60(&digits)
        || is_decimal(&digits)
}

/// `1:30`, `190:20:30.15`: YAML 1.1 sexagesimal numbers.
fn is_base_60(digits: &str) -> bool {
    let mut parts = digits.split(':');
    let first = parts.next().unwrap_or_default();
    let mut rest = parts.peekable();
    rest.peek().is_some()
        && is_all_digits(first)
        && rest.all(|part| {
            let whole = part.split_once('.').map_or(part, |(whole, _)| whole);
            is_all_digits(whole) && is_decimal(part)
        })
}

/// `[0-9]*(.[0-9]*)?([eE][-+]?[0-9]+)?` with at least one digit before the exponent.
fn is_decimal(digits: &str) -> bool {
    let (mantissa, exponent) = match digits.split_once('e') {
        Some((mantissa, exponent)) => (mantissa, Some(exponent)),
        None => (digits, None),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let has_digit = !whole.is_empty() || !fraction.is_empty();
    let exponent_ok = exponent.is_none_or(|exponent| {
        is_all_digits(exponent.strip_prefix(['+', '-']).unwrap_or(exponent))
    });
    has_digit
        && (whole.is_empty() || is_all_digits(whole))
        && (fraction.is_empty() || is_all_digits(fraction))
        && exponent_ok
}

fn is_all_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_digit())
}

/// `2024-01-31` and anything starting like it: YAML 1.1 timestamps.
fn is_date(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() >= 8
        && bytes[..4].iter().all(u8::is_ascii_digit)
        && bytes[4] == b'-'
        && bytes[5].is_ascii_digit()
}

/// `text` in double quotes, with `"`, `\` and non-printable characters escaped.
pub(super) fn double_quoted(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            '\r' => quoted.push_str("\\r"),
            '\t' => quoted.push_str("\\t"),
            '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{feff}' => {
                quoted.push_str(&format!("\\u{:04x}", u32::from(c)))
            }
            c if !is_printable(c) => quoted.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

/// `text` in single quotes (`'` doubled), or `None` when single quotes cannot hold it on one
/// line (line breaks and other non-printable characters need double-quote escapes).
pub(super) fn single_quoted(text: &str) -> Option<String> {
    let fits = text
        .chars()
        .all(|c| is_printable(c) && !matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{feff}'));
    fits.then(|| format!("'{}'", text.replace('\'', "''")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_safety_depends_on_indicators_and_context() {
        for safe in [
            "nginx",
            "docker.io/bitnami/nginx:1.27",
            "-dev",
            "a:b",
            "a#b",
            "/data",
            "é",
            "a b",
        ] {
            assert!(is_plain_safe(safe, false), "{safe}");
        }
        for unsafe_ in [
            "", " a", "a ", "- a", "-", "a: b", "a:", "a #b", "#a", "&a", "*a", "!a", "|", ">",
            "'a", "\"a", "%a", "@a", "`a", "[a", "{a", "---", "a\nb", "a\tb",
        ] {
            assert!(!is_plain_safe(unsafe_, false), "{unsafe_:?}");
        }
        assert!(is_plain_safe("a,b", false));
        assert!(!is_plain_safe("a,b", true));
        assert!(!is_plain_safe("a]", true));
    }

    #[test]
    fn strings_that_read_as_other_types_are_recognised() {
        for other in [
            "",
            "~",
            "null",
            "true",
            "False",
            "yes",
            "ON",
            "n",
            "1001",
            "-1",
            "+12",
            "0755",
            "0x1F",
            "0o17",
            "0b101",
            "1_000",
            "1.10",
            "1.",
            ".5",
            "1e3",
            "1.5E-3",
            ".inf",
            "-.Inf",
            ".NaN",
            "+inf",
            "1:30",
            "190:20:30.15",
            "2024-01-31",
            "2001-12-14t21:59:43.10-05:00",
            "<<",
        ] {
            assert!(!reads_as_string(other), "{other:?}");
        }
        for string in [
            "latest",
            "1.27.3",
            "v1.2",
            "1.2.3-debian-12-r4",
            "e3",
            ".",
            "0x",
            "inf",
            "nginx:1.27",
            "1:x",
            "12a",
            "Yes please",
            "2024-1",
        ] {
            assert!(reads_as_string(string), "{string:?}");
        }
    }

    #[test]
    fn quoting_escapes_what_each_style_needs() {
        assert_eq!(double_quoted(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(double_quoted("a\nb\u{7}"), r#""a\nb\u0007""#);
        assert_eq!(single_quoted("it's").as_deref(), Some("'it''s'"));
        assert_eq!(single_quoted("a\nb"), None);
    }
}
