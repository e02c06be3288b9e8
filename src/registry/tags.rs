//! Tags: listing a repository's tags (`/v2/<name>/tags/list`, following `Link` pages) and
//! choosing the published tag nearest to one that does not exist.

use serde::Deserialize;

use super::RegistryError;
use super::client::{Method, Transport, bad, status_error};
use super::endpoint::Target;

/// Pages followed before giving up on a registry that keeps sending `Link` headers.
const MAX_PAGES: usize = 1000;

#[derive(Deserialize)]
struct TagList {
    #[serde(default)]
    tags: Option<Vec<String>>,
}

/// Every tag of the target's repository, in the registry's order.
pub(crate) fn list(transport: &Transport, target: &Target) -> Result<Vec<String>, RegistryError> {
    let base = transport.base(target)?;
    let mut url = format!("{base}/v2/{}/tags/list", target.repository);
    let mut tags = Vec::new();
    for _ in 0..MAX_PAGES {
        let response =
            transport.request_url(target, Method::Get, &url, Some("application/json"))?;
        let status = response.status();
        if status.as_u16() == 404 {
            return Err(RegistryError::NotFound {
                host: target.host.clone(),
                reference: target.canonical.clone(),
                what: format!("no repository {}", target.repository),
            });
        }
        if !status.is_success() {
            return Err(status_error(target, status, "a tag list request"));
        }
        let next = response
            .headers()
            .get("link")
            .and_then(|value| value.to_str().ok())
            .and_then(next_link)
            .map(|link| absolute(&base, &link));
        let body = transport.read_body(target, response, "tag list")?;
        let page: TagList = serde_json::from_slice(&body)
            .map_err(|error| bad(target, "tag list", error.to_string()))?;
        tags.extend(page.tags.unwrap_or_default());
        match next {
            Some(next) if next != url => url = next,
            _ => return Ok(tags),
        }
    }
    Err(bad(
        target,
        "tag list",
        format!("it has more than {MAX_PAGES} pages"),
    ))
}

/// The `rel="next"` target of a `Link` header: `</v2/x/tags/list?last=a&n=2>; rel="next"`.
fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|link| {
        let (target, parameters) = link.split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        parameters
            .split(';')
            .any(|parameter| {
                let parameter = parameter.trim().replace(' ', "");
                parameter.eq_ignore_ascii_case("rel=\"next\"")
                    || parameter.eq_ignore_ascii_case("rel=next")
            })
            .then(|| target.to_owned())
    })
}

/// A link relative to the registry (the usual form) made absolute; absolute links are kept.
fn absolute(base: &str, link: &str) -> String {
    if link.starts_with("http://") || link.starts_with("https://") {
        link.to_owned()
    } else if link.starts_with('/') {
        format!("{base}{link}")
    } else {
        format!("{base}/{link}")
    }
}

/// A tag read as `[v]N[.N]…` and the rest (`-dev`, `-alpine3.20`, …).
#[derive(Debug, PartialEq, Eq)]
struct Version<'a> {
    v: bool,
    numbers: Vec<u64>,
    suffix: &'a str,
}

fn version(tag: &str) -> Option<Version<'_>> {
    let (v, rest) = match tag.strip_prefix('v') {
        Some(rest) => (true, rest),
        None => (false, tag),
    };
    let mut numbers = Vec::new();
    let mut position = 0;
    let bytes = rest.as_bytes();
    loop {
        let start = position;
        while bytes.get(position).is_some_and(u8::is_ascii_digit) {
            position += 1;
        }
        numbers.push(rest[start..position].parse().ok()?);
        let more = bytes.get(position) == Some(&b'.')
            && bytes.get(position + 1).is_some_and(u8::is_ascii_digit);
        if !more {
            break;
        }
        position += 1;
    }
    Some(Version {
        v,
        numbers,
        suffix: &rest[position..],
    })
}

/// The published tag nearest to `wanted`, or `None` when no tag is on its line.
///
/// The rule: `wanted` itself when published. Otherwise `wanted` must read as a version
/// (`[v]MAJOR[.MINOR[.PATCH…]]` then any suffix such as `-dev`), and a candidate must be on
/// the same line: the same suffix (exactly: `-dev` stays `-dev`, nothing stays nothing), the
/// same `v` prefix, the same major, and the same minor when both name one (`20` and `20.12`
/// are on the line of `20.11.1`; `20.12` is not). Among those, the candidate agreeing with
/// `wanted` on the most leading numbers wins; then the shortest (the floating tag of the line,
/// `20.11` before `20.11.5`); then the highest version; then the first in text order. Tags
/// that are not versions (`latest`, `stable`) only ever match themselves.
pub fn nearest_tag(wanted: &str, published: &[String]) -> Option<String> {
    if published.iter().any(|tag| tag == wanted) {
        return Some(wanted.to_owned());
    }
    let wanted = version(wanted)?;
    published
        .iter()
        .filter_map(|tag| Some((tag, version(tag)?)))
        .filter(|(_, candidate)| {
            candidate.v == wanted.v
                && candidate.suffix == wanted.suffix
                && candidate.numbers.first() == wanted.numbers.first()
                && match (candidate.numbers.get(1), wanted.numbers.get(1)) {
                    (Some(a), Some(b)) => a == b,
                    _ => true,
                }
        })
        .min_by(|(a_tag, a), (b_tag, b)| {
            let agree = |candidate: &Version<'_>| {
                candidate
                    .numbers
                    .iter()
                    .zip(&wanted.numbers)
                    .take_while(|(x, y)| x == y)
                    .count()
            };
            agree(b)
                .cmp(&agree(a))
                .then(a.numbers.len().cmp(&b.numbers.len()))
                .then(b.numbers.cmp(&a.numbers))
                .then(a_tag.cmp(b_tag))
        })
        .map(|(tag, _)| tag.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(items: &[&str]) -> Vec<String> {
        items.iter().map(|item| (*item).to_owned()).collect()
    }

    #[test]
    fn a_published_tag_is_its_own_nearest() {
        assert_eq!(
            nearest_tag("latest", &tags(&["1", "latest"])).as_deref(),
            Some("latest")
        );
        assert_eq!(
            nearest_tag("20.11.1", &tags(&["20.11.1", "20"])).as_deref(),
            Some("20.11.1")
        );
    }

    #[test]
    fn the_floating_tag_of_the_same_minor_line_comes_first() {
        let published = tags(&["20", "20.11", "20.11.5", "20.12", "21", "20.11-dev"]);
        assert_eq!(nearest_tag("20.11.1", &published).as_deref(), Some("20.11"));
        let published = tags(&["20", "20.11.5", "20.11.7", "20.12"]);
        assert_eq!(
            nearest_tag("20.11.1", &published).as_deref(),
            Some("20.11.7")
        );
        // Only the major line is left.
        assert_eq!(
            nearest_tag("20.11.1", &tags(&["20", "20.12", "19.11.1"])).as_deref(),
            Some("20")
        );
    }

    #[test]
    fn another_minor_is_another_line() {
        assert_eq!(
            nearest_tag("20.11", &tags(&["20.12", "20.12.1", "21.11"])),
            None
        );
        assert_eq!(
            nearest_tag("20.11", &tags(&["20.12", "20"])).as_deref(),
            Some("20")
        );
    }

    #[test]
    fn a_major_wanted_takes_the_highest_minor_line() {
        let published = tags(&["20.1", "20.2.3", "20.2", "21", "2"]);
        assert_eq!(nearest_tag("20", &published).as_deref(), Some("20.2"));
    }

    #[test]
    fn the_suffix_and_v_prefix_must_agree() {
        let published = tags(&["20.11", "20.11-dev", "20-dev", "20.11-alpine"]);
        assert_eq!(
            nearest_tag("20.11.1-dev", &published).as_deref(),
            Some("20.11-dev")
        );
        assert_eq!(nearest_tag("20.11.1-slim", &published), None);
        assert_eq!(
            nearest_tag("v1.2", &tags(&["1.2", "v1.3", "v1.2.9"])).as_deref(),
            Some("v1.2.9")
        );
    }

    #[test]
    fn named_lines_only_match_themselves() {
        assert_eq!(nearest_tag("latest-dev", &tags(&["latest", "1-dev"])), None);
        assert_eq!(nearest_tag("stable", &tags(&["1", "stable-slim"])), None);
    }

    #[test]
    fn versions_split_into_numbers_and_suffix() {
        let parsed = version("3.12.1-slim-bookworm").unwrap();
        assert_eq!(
            (parsed.numbers, parsed.suffix),
            (vec![3, 12, 1], "-slim-bookworm")
        );
        assert_eq!(version("1.2.").unwrap().suffix, ".");
        assert_eq!(version("alpine"), None);
        assert_eq!(version("99999999999999999999999"), None);
    }

    #[test]
    fn link_headers_give_the_next_page() {
        assert_eq!(
            next_link(r#"</v2/x/tags/list?last=b&n=2>; rel="next""#).as_deref(),
            Some("/v2/x/tags/list?last=b&n=2")
        );
        assert_eq!(next_link(r#"<https://a/b>; rel="prev""#), None);
        assert_eq!(absolute("http://h:1", "/v2/x"), "http://h:1/v2/x");
        assert_eq!(absolute("http://h:1", "https://o/v2/x"), "https://o/v2/x");
    }
}
