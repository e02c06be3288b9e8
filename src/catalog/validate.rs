//! What catalog strings may be: each is checked against what it becomes in the files hardport
//! writes.

use super::{EntryFile, ImageSpec};
use crate::image_ref::ImageRef;

/// Every catalog string hardport writes into a Dockerfile or values file must be what it
/// becomes there, and nothing more: a name with a line break would inject instructions
/// (`RUN curl … | sh`), one with a space a stage name (`node AS evil`). So: the replacement (a
/// written one, or `<registry>/<name>`) is a repository without tag, digest or variables; the
/// `-dev` suffix extends a tag; `paths` and a `workdir` are absolute paths without blanks or
/// control characters; user and group ids and names are `name[:group]` words.
pub(super) fn check_written_strings(raw: &EntryFile, replacement: &str) -> Result<(), String> {
    if !plain(&raw.name) {
        return Err(format!(
            "name {:?} must not hold blanks or control characters",
            raw.name
        ));
    }
    let parsed = ImageRef::parse(replacement)
        .map_err(|error| format!("replacement {replacement:?}: {error}"))?;
    if parsed.tag.is_some()
        || parsed.digest.is_some()
        || parsed.has_variables()
        || !plain(replacement)
    {
        return Err(format!(
            "replacement {replacement:?} must be a repository without tag, digest or variables"
        ));
    }
    if let Some(suffix) = &raw.dev_tag_suffix {
        let tag = format!("1{suffix}");
        let extends_a_tag = ImageRef::parse(&format!("x:{tag}"))
            .is_ok_and(|probe| probe.tag.as_deref() == Some(tag.as_str()));
        if !extends_a_tag {
            return Err(format!("dev_tag_suffix {suffix:?} does not extend a tag"));
        }
    }
    for (from, to) in &raw.paths {
        absolute_path("paths", from)?;
        absolute_path("paths", to)?;
    }
    check_spec_strings("public", &raw.public)?;
    check_spec_strings("hardened", &raw.hardened)
}

/// The strings of one image's facts, which rules write into files: a `workdir` is an absolute
/// path without blanks or control characters, user and group ids and names are `name[:group]`
/// words. For a catalog entry's sides and for the facts of `hardport.lock` alike.
pub(crate) fn check_spec_strings(side: &str, spec: &ImageSpec) -> Result<(), String> {
    if let Some(workdir) = &spec.workdir {
        absolute_path(&format!("{side}.workdir"), workdir)?;
    }
    for (field, value) in [("user", &spec.user), ("group", &spec.group)] {
        if let Some(value) = value {
            id(&format!("{side}.{field}"), &value.0)?;
        }
    }
    for (field, names) in [("users", &spec.users), ("groups", &spec.groups)] {
        for (name, value) in names.iter().flatten() {
            id(&format!("{side}.{field}"), name)?;
            id(&format!("{side}.{field}.{name}"), &value.0)?;
        }
    }
    Ok(())
}

/// Text without blanks or control characters.
fn plain(text: &str) -> bool {
    !text.chars().any(|ch| ch.is_whitespace() || ch.is_control())
}

fn absolute_path(what: &str, value: &str) -> Result<(), String> {
    match value.starts_with('/') && plain(value) {
        true => Ok(()),
        false => Err(format!(
            "{what} {value:?} must be an absolute path without blanks or control characters"
        )),
    }
}

fn id(what: &str, value: &str) -> Result<(), String> {
    let word = |part: &str| {
        !part.is_empty()
            && part
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '_' | '-' | '.'))
    };
    let valid = match value.split_once(':') {
        Some((user, group)) => word(user) && word(group),
        None => word(value),
    };
    match valid {
        true => Ok(()),
        false => Err(format!(
            "{what} {value:?} is not a user or group id or name"
        )),
    }
}
