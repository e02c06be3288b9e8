//! Facts only the image's files hold: `/etc/passwd` and `/etc/group` (user and group names to
//! ids), whether `/bin/sh` exists, and which package manager the image has.
//!
//! Layers are streamed from the top down, and reading stops after the first layer at whose end
//! every question is answered, so a fact set by an upper layer never costs a read of the base
//! image. A question is answered when its path is decided by a layer read: present, or deleted
//! by a whiteout (see [`union`]). Absence of a path no layer mentions is only known once every
//! layer has been read.
//!
//! - `/bin/sh` is looked up as `execve` would: symbolic links are followed inside the image
//!   (`/bin -> usr/bin`, `/bin/sh -> dash`, busybox's `/bin/sh -> /bin/busybox`); a dangling
//!   link or a directory is no shell.
//! - The package manager is the first of `apk` (`/sbin/apk`, `/usr/bin/apk`), `apt`
//!   (`/usr/bin/apt-get`), `dnf`, `microdnf` and `yum` (`/usr/bin/…`) the layers read so far
//!   hold; it is recorded as the catalog spells it (`apt` for `apt-get`). Once one is found
//!   the question is answered; none found means none once every layer is read.
//! - `/etc/passwd` and `/etc/group` are read as the file itself (a link there leaves the fact
//!   unknown), at most [`super::Limits::file_bytes`] each.
//!
//! Every read is bounded ([`super::Limits`]): compressed bytes per layer and in all, unpacked
//! bytes per layer, and the number of paths remembered. A cap reached stops reading; facts
//! the layers read so far decide are kept, the rest stay unknown and are named in
//! [`LayerFacts::unknown`]. A layer read to its end is checked against its digest; a corrupt
//! layer (bad gzip, truncated tar, wrong digest) is an error, since facts below it could be
//! hidden by the part that cannot be read.

mod decode;
mod union;

use std::cell::Cell;
use std::collections::BTreeMap;
use std::io::{self, BufReader, Read};

use crate::catalog::Id;

use super::client::{Method, Transport, status_error};
use super::endpoint::Target;
use super::manifest::Descriptor;
use super::{Limits, RegistryError};
use decode::Metered;
pub(crate) use union::{Found, Node, Pending, Union};

/// Package managers in the order one is preferred when an image has several, with the paths
/// that hold them.
const PACKAGE_MANAGERS: &[(&str, &[&str])] = &[
    ("apk", &["sbin/apk", "usr/bin/apk"]),
    ("apt", &["usr/bin/apt-get"]),
    ("dnf", &["usr/bin/dnf"]),
    ("microdnf", &["usr/bin/microdnf"]),
    ("yum", &["usr/bin/yum"]),
];

const PASSWD: &str = "etc/passwd";
const GROUP: &str = "etc/group";
/// Where the distribution says what it is; `/etc/os-release` is often a link to the other.
const OS_RELEASE: &str = "etc/os-release";
const USR_OS_RELEASE: &str = "usr/lib/os-release";
/// The files whose contents a question needs.
const READ_FILES: [&str; 4] = [PASSWD, GROUP, OS_RELEASE, USR_OS_RELEASE];

/// What the layers say. `None` is unknown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LayerFacts {
    /// `/etc/passwd`: user name → uid (empty when the image has no passwd file).
    pub users: Option<BTreeMap<String, Id>>,
    /// `/etc/passwd` again: user name and uid → primary gid, to find the group a user runs as.
    pub primary_groups: Option<BTreeMap<String, Id>>,
    /// `/etc/group`: group name → gid (empty when the image has no group file).
    pub groups: Option<BTreeMap<String, Id>>,
    /// Whether `/bin/sh` exists.
    pub shell: Option<bool>,
    /// `Some(None)`: no known package manager in the image.
    pub package_manager: Option<Option<String>>,
    /// The `ID` of `/etc/os-release` (or `/usr/lib/os-release`): the distribution whose
    /// package names the package manager installs. `Some(None)`: the image has neither file.
    pub distribution: Option<Option<String>>,
    /// Why a fact is unknown: `"users: …"`, one line per fact left unknown.
    pub unknown: Vec<String>,
    /// How many layers were read (from the top).
    pub layers_read: usize,
}

/// The contents kept of a file a question needs.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Content {
    Bytes(Vec<u8>),
    Unreadable(String),
}

/// The union plus the contents of `/etc/passwd` and `/etc/group` as the union decides them.
#[derive(Debug, Default)]
pub(crate) struct Scan {
    union: Union,
    contents: BTreeMap<&'static str, Content>,
}

/// How reading one layer ended.
enum Ended {
    /// Read to its end, with the digest of its compressed bytes and their count.
    Complete { digest: Option<String>, bytes: u64 },
    /// A cap was reached; the entries before it were kept.
    Capped(String),
}

impl Scan {
    /// Reads one layer (the next one down) from `reader`, then merges it.
    fn layer(
        &mut self,
        reader: impl Read,
        compressed_cap: u64,
        limits: &Limits,
    ) -> Result<Ended, String> {
        let hit = Cell::new(false);
        let mut raw = Metered::new(reader, compressed_cap, &hit, true);
        let mut pending = Pending::default();
        let mut contents = BTreeMap::new();
        let result = self.entries(&mut raw, &hit, limits, &mut pending, &mut contents);
        self.union.merge(pending);
        for (path, content) in contents {
            self.contents.entry(path).or_insert(content);
        }
        match result {
            Ok(()) => {
                let bytes = raw.read;
                Ok(Ended::Complete {
                    digest: raw.digest(),
                    bytes,
                })
            }
            Err(_) if hit.get() => Ok(Ended::Capped(format!(
                "a layer is larger than the read limits ({} compressed, {} unpacked bytes, {} paths)",
                compressed_cap, limits.unpacked_layer_bytes, limits.paths
            ))),
            Err(error) => Err(error.to_string()),
        }
    }

    /// Parses the tar inside `raw`, gathering its entries, and reads the stream to its end so
    /// the digest covers every byte.
    fn entries<R: Read>(
        &self,
        raw: &mut Metered<'_, R>,
        hit: &Cell<bool>,
        limits: &Limits,
        pending: &mut Pending,
        contents: &mut BTreeMap<&'static str, Content>,
    ) -> io::Result<()> {
        let decompressed = decode::decompress(BufReader::new(&mut *raw))?;
        let mut unpacked = Metered::new(decompressed, limits.unpacked_layer_bytes, hit, false);
        {
            let mut archive = tar::Archive::new(&mut unpacked);
            for entry in archive.entries()? {
                let mut entry = entry?;
                let path = union::normalize(&String::from_utf8_lossy(&entry.path_bytes()));
                if path.is_empty() {
                    continue;
                }
                let kind = entry.header().entry_type();
                let node = match kind {
                    tar::EntryType::Directory => Node::Dir { opaque: false },
                    tar::EntryType::Symlink => Node::Symlink(
                        entry
                            .link_name_bytes()
                            .map(|target| String::from_utf8_lossy(&target).into_owned())
                            .unwrap_or_default(),
                    ),
                    tar::EntryType::XGlobalHeader => continue,
                    _ => Node::File,
                };
                if let Some(name) = READ_FILES.into_iter().find(|name| *name == path)
                    && self.union.visible(&path)
                {
                    contents.insert(name, read_content(&mut entry, kind, limits.file_bytes)?);
                }
                pending.add(path, node);
                if self.union.len() + pending.len() > limits.paths {
                    hit.set(true);
                    return Err(io::Error::other("too many paths"));
                }
            }
        }
        // The end-of-archive blocks may be followed by padding and, for gzip, the trailer
        // holding its checksum: read them so a truncated or corrupt stream is noticed.
        io::copy(&mut unpacked, &mut io::sink())?;
        drop(unpacked);
        io::copy(raw, &mut io::sink())?;
        Ok(())
    }

    /// Whether every question is answered by the layers read so far.
    fn answered(&self) -> bool {
        let facts = self.facts(false);
        facts.users.is_some()
            && facts.groups.is_some()
            && facts.shell.is_some()
            && facts.package_manager.is_some()
            && facts.distribution.is_some()
    }

    /// The facts as the layers read so far decide them; `complete` says there are no more.
    pub(crate) fn facts(&self, complete: bool) -> LayerFacts {
        let mut facts = LayerFacts::default();
        match self.file(PASSWD, complete) {
            Ok(Some(bytes)) => {
                let entries = passwd(&bytes);
                facts.users = Some(
                    entries
                        .iter()
                        .map(|e| (e.name.clone(), Id(e.uid.clone())))
                        .collect(),
                );
                let mut primary = BTreeMap::new();
                for entry in entries.iter().rev() {
                    primary.insert(entry.uid.clone(), Id(entry.gid.clone()));
                    primary.insert(entry.name.clone(), Id(entry.gid.clone()));
                }
                facts.primary_groups = Some(primary);
            }
            Ok(None) => {
                facts.users = Some(BTreeMap::new());
                facts.primary_groups = Some(BTreeMap::new());
            }
            Err(Some(why)) => facts.unknown.push(format!("users: {why}")),
            Err(None) => {}
        }
        match self.file(GROUP, complete) {
            Ok(Some(bytes)) => facts.groups = Some(group(&bytes)),
            Ok(None) => facts.groups = Some(BTreeMap::new()),
            Err(Some(why)) => facts.unknown.push(format!("groups: {why}")),
            Err(None) => {}
        }
        facts.shell = match self.union.lookup("bin/sh", complete) {
            Found::File => Some(true),
            Found::Absent => Some(false),
            Found::Open => None,
        };
        facts.package_manager = self.package_manager(complete);
        facts.distribution = match self.distribution(complete) {
            Ok(distribution) => Some(distribution),
            Err(Some(why)) => {
                facts.unknown.push(format!("distribution: {why}"));
                None
            }
            Err(None) => None,
        };
        facts
    }

    /// The os-release `ID`: from `/etc/os-release`, or from `/usr/lib/os-release` when that
    /// is absent or a link (to it, as on Debian); `Ok(None)` when the image has neither.
    fn distribution(&self, complete: bool) -> Result<Option<String>, Option<String>> {
        let from_usr = || match self.file(USR_OS_RELEASE, complete) {
            Ok(Some(bytes)) => Ok(os_release_id(&bytes)),
            Ok(None) => Ok(None),
            Err(why) => Err(why),
        };
        match self.union.literal(OS_RELEASE, complete) {
            Err(()) => Err(None),
            Ok(Some(Node::Symlink(_)) | None) => from_usr(),
            Ok(_) => match self.file(OS_RELEASE, complete) {
                Ok(Some(bytes)) => Ok(os_release_id(&bytes)),
                Ok(None) => from_usr(),
                Err(why) => Err(why),
            },
        }
    }

    /// `Ok(Some(bytes))` present, `Ok(None)` absent, `Err(Some(why))` present but unreadable,
    /// `Err(None)` undecided.
    fn file(&self, path: &'static str, complete: bool) -> Result<Option<Vec<u8>>, Option<String>> {
        match self.union.literal(path, complete) {
            Err(()) => Err(None),
            Ok(None) => Ok(None),
            Ok(Some(Node::Dir { .. })) => Ok(None),
            Ok(Some(Node::Symlink(target))) => Err(Some(format!(
                "/{path} is a symbolic link (to {target}), which hardport does not follow"
            ))),
            Ok(Some(_)) => match self.contents.get(path) {
                Some(Content::Bytes(bytes)) => Ok(Some(bytes.clone())),
                Some(Content::Unreadable(why)) => Err(Some(why.clone())),
                None => Err(Some(format!("/{path} was not read"))),
            },
        }
    }

    fn package_manager(&self, complete: bool) -> Option<Option<String>> {
        let mut open = false;
        for (name, paths) in PACKAGE_MANAGERS {
            for path in *paths {
                match self.union.lookup(path, complete) {
                    Found::File => return Some(Some((*name).to_owned())),
                    Found::Open => open = true,
                    Found::Absent => {}
                }
            }
        }
        (!open).then_some(None)
    }
}

/// The contents of `/etc/passwd` or `/etc/group`, if it is a regular file small enough.
fn read_content<R: Read>(
    entry: &mut tar::Entry<'_, R>,
    kind: tar::EntryType,
    cap: u64,
) -> io::Result<Content> {
    let path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
    if !kind.is_file() && kind != tar::EntryType::Continuous {
        return Ok(Content::Unreadable(format!(
            "/{} is a {kind:?} entry, not a regular file",
            union::normalize(&path)
        )));
    }
    if entry.size() > cap {
        return Ok(Content::Unreadable(format!(
            "/{} is {} bytes, over the {cap}-byte limit",
            union::normalize(&path),
            entry.size()
        )));
    }
    let mut bytes = Vec::new();
    entry.take(cap).read_to_end(&mut bytes)?;
    Ok(Content::Bytes(bytes))
}

/// The `ID=` of an os-release file, unquoted (`ID=wolfi`, `ID="debian"`); `None` without one.
fn os_release_id(bytes: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(bytes).ok()?;
    let value = text
        .lines()
        .find_map(|line| line.trim().strip_prefix("ID="))?
        .trim()
        .trim_matches(['"', '\'']);
    let plain = !value.is_empty()
        && value.chars().all(|ch| {
            ch.is_ascii_lowercase() || ch.is_ascii_digit() || matches!(ch, '.' | '_' | '-')
        });
    plain.then(|| value.to_owned())
}

struct PasswdEntry {
    name: String,
    uid: String,
    gid: String,
}

/// `name:password:uid:gid:…` lines with numeric ids; the first line for a name wins, as for
/// `getpwnam`. Comments, NIS `+`/`-` lines and malformed lines are skipped.
fn passwd(bytes: &[u8]) -> Vec<PasswdEntry> {
    let mut seen = std::collections::BTreeSet::new();
    lines(bytes)
        .filter_map(|fields| {
            let [name, _, uid, gid, ..] = fields.as_slice() else {
                return None;
            };
            (numeric(uid) && numeric(gid) && seen.insert(name.to_string())).then(|| PasswdEntry {
                name: name.to_string(),
                uid: uid.to_string(),
                gid: gid.to_string(),
            })
        })
        .collect()
}

/// `name:password:gid:members` lines: group name → gid, first line for a name winning.
fn group(bytes: &[u8]) -> BTreeMap<String, Id> {
    let mut groups = BTreeMap::new();
    for fields in lines(bytes) {
        if let [name, _, gid, ..] = fields.as_slice()
            && numeric(gid)
        {
            groups
                .entry(name.to_string())
                .or_insert_with(|| Id(gid.to_string()));
        }
    }
    groups
}

fn lines(bytes: &[u8]) -> impl Iterator<Item = Vec<&str>> {
    std::str::from_utf8(bytes)
        .unwrap_or("")
        .lines()
        .map(str::trim_end)
        .filter(|line| {
            !line.is_empty()
                && !line.starts_with('#')
                && !line.starts_with('+')
                && !line.starts_with('-')
        })
        .map(|line| line.split(':').collect::<Vec<_>>())
        .filter(|fields| fields.first().is_some_and(|name| !name.is_empty()))
}

fn numeric(text: &str) -> bool {
    !text.is_empty() && text.len() <= 10 && text.bytes().all(|b| b.is_ascii_digit())
}

/// Reads the image's layers (`layers` as the manifest lists them, bottom first) from the top
/// down until every question is answered or a limit is reached.
pub(crate) fn read(
    transport: &Transport,
    target: &Target,
    layers: &[Descriptor],
) -> Result<LayerFacts, RegistryError> {
    let error = |layer: &Descriptor, message: String| RegistryError::Layer {
        host: target.host.clone(),
        reference: target.canonical.clone(),
        digest: layer.digest.clone(),
        message,
    };
    let open = |layer: &Descriptor| -> Result<Box<dyn Read>, RegistryError> {
        let path = format!("blobs/{}", layer.digest);
        let response = transport.request(target, Method::Get, &path, None)?;
        let status = response.status();
        if status.as_u16() == 404 {
            return Err(error(layer, "the registry does not have this blob".into()));
        }
        if !status.is_success() {
            return Err(status_error(target, status, "a layer request"));
        }
        Ok(Box::new(response.into_body().into_reader()))
    };
    scan_layers(layers, &transport.options().limits, open, error)
}

/// [`read`] with the blob source and error given: `open` streams a layer's blob.
pub(crate) fn scan_layers<'a>(
    layers: &[Descriptor],
    limits: &Limits,
    mut open: impl FnMut(&Descriptor) -> Result<Box<dyn Read + 'a>, RegistryError>,
    error: impl Fn(&Descriptor, String) -> RegistryError,
) -> Result<LayerFacts, RegistryError> {
    let mut scan = Scan::default();
    let mut budget = limits.total_layer_bytes;
    let mut stopped: Option<String> = None;
    let mut layers_read = 0;
    for layer in layers.iter().rev() {
        if scan.answered() {
            break;
        }
        if budget == 0 {
            stopped = Some(format!(
                "the layers are larger than the {}-byte read limit",
                limits.total_layer_bytes
            ));
            break;
        }
        let reader = open(layer)?;
        layers_read += 1;
        let ended = scan
            .layer(reader, limits.layer_bytes.min(budget), limits)
            .map_err(|message| error(layer, message))?;
        match ended {
            Ended::Complete { digest, bytes } => {
                budget = budget.saturating_sub(bytes);
                if let Some(digest) = digest
                    && layer.digest.starts_with("sha256:")
                    && !digest.eq_ignore_ascii_case(&layer.digest)
                {
                    return Err(error(layer, format!("its content has digest {digest}")));
                }
            }
            Ended::Capped(why) => {
                stopped = Some(why);
                break;
            }
        }
    }
    let mut facts = scan.facts(stopped.is_none());
    facts.layers_read = layers_read;
    if let Some(why) = stopped {
        let open = [
            ("users", facts.users.is_none()),
            ("groups", facts.groups.is_none()),
            ("shell", facts.shell.is_none()),
            ("package_manager", facts.package_manager.is_none()),
            ("distribution", facts.distribution.is_none()),
        ];
        for (fact, is_open) in open {
            if is_open && !facts.unknown.iter().any(|line| line.starts_with(fact)) {
                facts.unknown.push(format!("{fact}: {why}"));
            }
        }
    }
    Ok(facts)
}

#[cfg(test)]
mod tests;
