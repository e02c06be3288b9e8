//! Target `tree`: a small repository nobody wrote — files, directories, names, ignore files,
//! symbolic links and FIFOs — run through what `hardport migrate` does: discovery, then every
//! file migrated, as a dry run and with `--write`.
//!
//! The input decodes into at most [`MAX_ENTRIES`] entries under a fresh directory `tree/`,
//! beside a directory `outside/` holding sentinel files whose text carries [`MARKER`]. The
//! properties are the file-system promises of docs/reliability.md: nothing outside the paths
//! given is read, quoted or written; `--write` is atomic and leaves no temporary file; it writes
//! exactly what the dry run's patches say; and a second run changes nothing.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::num::NonZeroUsize;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use hardport::discovery::{Walk, WalkError, discover};
use hardport::helm::chart::ChartCache;
use hardport::kubernetes::Kustomizations;
use hardport::migrate::{FileError, FileOptions, FileReport, WriteMode, process_file};
use hardport::patch_path::PatchBase;
use hardport::report::{Mode, Report};
use hardport::rules::Context;
use hardport::scope::Scope;
use hardport::{markdown, sarif};

use crate::{MINIMUS, apply_patch};

/// At most this many entries per input, to keep an execution to milliseconds.
const MAX_ENTRIES: usize = 12;

/// In every sentinel file outside the tree, and nowhere else: if it shows up in a report, a
/// file outside the paths given was read.
pub const MARKER: &str = "sentinel7f3a9c";

/// The files of `outside/`, which a link in the tree may point at.
const OUTSIDE: [(&str, &str); 4] = [
    (
        "Dockerfile",
        "FROM nginx:1.27 AS sentinel7f3a9c\nUSER sentinel7f3a9c\nRUN echo sentinel7f3a9c\n",
    ),
    (
        "values.yaml",
        "image:\n  repository: nginx\n  tag: sentinel7f3a9c\nsecurityContext: {runAsUser: 0}\n",
    ),
    (
        "Chart.yaml",
        "apiVersion: v2\nname: sentinel7f3a9c\nversion: 1.0.0\nappVersion: 1.27.0-sentinel7f3a9c\n",
    ),
    (
        "templates/deployment.yaml",
        "{{ .Values.sentinel7f3a9c }} {{ .Values.securityContext }}\n",
    ),
];

/// Entry names: what discovery looks for, what it skips, and names it must carry as bytes.
const NAMES: [&[u8]; 20] = [
    b"Dockerfile",
    b"values.yaml",
    b"Chart.yaml",
    b"templates",
    b".gitignore",
    b".ignore",
    b".git",
    b"vendor",
    b"sub",
    b"app.Dockerfile",
    b"Containerfile",
    b"values-prod.yaml",
    b"\xff\xfe.Dockerfile",
    b"Dock\xe9rfile",
    b"deployment.yaml",
    b"info",
    b"exclude",
    b"Dockerfile.template",
    b"node_modules",
    b"a b\\\"\t.Dockerfile",
];

/// File contents: real snippets of each kind, ignore rules, and texts that are not ours.
const CONTENTS: [&[u8]; 16] = [
    b"FROM node:20\nUSER node\nRUN chown -R node:node /app\nCMD [\"node\", \"app.js\"]\n",
    b"FROM nginx:1.27\r\nCOPY . /usr/share/nginx/html\r\n",
    b"image:\n  repository: nginx\n  tag: \"1.27\"\nsecurityContext: {}\n",
    b"apiVersion: v2\nname: web\nversion: 0.1.0\nappVersion: \"1.27.0\"\n",
    b"*\n",
    b"Dockerfile\n!values.yaml\n",
    b"vendor/\n/sub\n*.yaml\n",
    b"!Dockerfile\n!vendor/\n",
    b"FROM {{ .Base }}\n",
    b"FROM python:3.12-slim AS build\nWORKDIR /app\nFROM build\nRUN pip install x\n",
    b"{{ .Values.securityContext }} {{ .Values.podSecurityContext }}\n",
    b"",
    b"FROM nginx:1.27\n# padding padding padding padding padding padding padding padding padding\n# padding padding padding padding padding padding padding padding padding\n",
    b"postgresql:\n  image:\n    registry: docker.io\n    repository: bitnami/postgresql\n    tag: 16\n",
    b"FROM nginx\n\x00",
    b"image: {repository: redis, tag: 7.2}\npodSecurityContext: {}\n",
];

const MAX_FILE_SIZES: [u64; 4] = [64, 512, 4096, hardport::input::DEFAULT_MAX_FILE_SIZE];

/// The directories of one process: `outside/` made once, `tree/` made anew per input.
struct Dirs {
    base: PathBuf,
    tree: PathBuf,
}

static DIRS: LazyLock<Dirs> = LazyLock::new(|| {
    let base = std::env::temp_dir().join(format!("hardport-fuzz-tree-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    for (name, text) in OUTSIDE {
        let path = base.join("outside").join(name);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir outside");
        std::fs::write(path, text).expect("write a sentinel");
    }
    let base = std::fs::canonicalize(&base).expect("canonical base");
    Dirs {
        tree: base.join("tree"),
        base,
    }
});

/// What one entry is.
#[derive(Debug, Clone)]
enum Kind {
    File(Vec<u8>),
    Dir,
    Link(u8),
    Fifo,
}

#[derive(Debug, Clone)]
struct Entry {
    /// Relative to `tree/`.
    path: PathBuf,
    kind: Kind,
}

/// Reads the input a byte at a time; past its end every byte is 0.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn next(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&byte, rest)) => {
                self.0 = rest;
                byte
            }
            None => 0,
        }
    }

    fn take(&mut self, count: usize) -> Vec<u8> {
        let (taken, rest) = self.0.split_at(count.min(self.0.len()));
        self.0 = rest;
        taken.to_vec()
    }
}

/// How a run is invoked: the paths given and the walk's options.
#[derive(Debug, Clone, Copy)]
struct Invocation {
    /// 0: the tree; 1: the tree and its first two entries; 2: its first three entries; 3: its
    /// first directory.
    roots: u8,
    max_file_size: u64,
    include_vendored: bool,
}

/// The entries the input describes: each is a parent (the tree or an earlier directory), a
/// name, and a kind with its content or link target.
fn decode(data: &[u8]) -> (Invocation, Vec<Entry>) {
    let mut bytes = Bytes(data);
    let flags = bytes.next();
    let invocation = Invocation {
        roots: flags & 3,
        max_file_size: MAX_FILE_SIZES[usize::from(flags >> 2 & 3)],
        include_vendored: flags & 16 != 0,
    };
    let mut entries: Vec<Entry> = Vec::new();
    while !bytes.0.is_empty() && entries.len() < MAX_ENTRIES {
        let dirs: Vec<&Path> = std::iter::once(Path::new(""))
            .chain(
                entries
                    .iter()
                    .filter(|entry| matches!(entry.kind, Kind::Dir))
                    .map(|entry| entry.path.as_path()),
            )
            .collect();
        let parent = dirs[usize::from(bytes.next()) % dirs.len()];
        let name = NAMES[usize::from(bytes.next()) % NAMES.len()];
        let path = parent.join(OsStr::from_bytes(name));
        let kind = match bytes.next() % 8 {
            0..=2 => Kind::File(CONTENTS[usize::from(bytes.next()) % CONTENTS.len()].to_vec()),
            3 => {
                let length = usize::from(bytes.next() % 64);
                Kind::File(bytes.take(length))
            }
            4 => Kind::Dir,
            5 | 6 => Kind::Link(bytes.next()),
            _ => Kind::Fifo,
        };
        if entries.iter().all(|entry| entry.path != path) {
            entries.push(Entry { path, kind });
        }
    }
    (invocation, entries)
}

/// Where the link `entry` points, from its directory.
fn link_target(entries: &[Entry], entry: &Entry, choice: u8) -> PathBuf {
    let depth = entry.path.components().count() - 1;
    let up = |levels: usize| -> PathBuf { std::iter::repeat_n("..", levels).collect() };
    let outside = ["Dockerfile", "values.yaml", "Chart.yaml", "templates"];
    match choice % 8 {
        0 | 1 => up(depth).join(&entries[usize::from(choice >> 3) % entries.len()].path),
        2 => entry
            .path
            .file_name()
            .map(PathBuf::from)
            .unwrap_or_default(),
        3 => PathBuf::from(".."),
        4 => DIRS
            .base
            .join("outside")
            .join(outside[usize::from(choice >> 3) % outside.len()]),
        5 => up(depth + 1)
            .join("outside")
            .join(outside[usize::from(choice >> 3) % outside.len()]),
        6 => up(depth + 1).join("outside"),
        _ => match choice >> 3 & 1 {
            0 => PathBuf::from("nowhere"),
            _ => PathBuf::from("/dev/zero"),
        },
    }
}

/// Makes `entries` under a fresh `tree/`: directories and files first, links last (a link may
/// point at a later entry).
fn build(entries: &[Entry]) {
    let tree = &DIRS.tree;
    if std::fs::symlink_metadata(tree).is_ok() {
        std::fs::remove_dir_all(tree).expect("remove the last tree");
    }
    std::fs::create_dir(tree).expect("mkdir tree");
    for entry in entries {
        let path = tree.join(&entry.path);
        match &entry.kind {
            Kind::File(content) => std::fs::write(&path, content).expect("write a file"),
            Kind::Dir => std::fs::create_dir(&path).expect("mkdir"),
            Kind::Fifo => rustix::fs::mknodat(
                rustix::fs::CWD,
                &path,
                rustix::fs::FileType::Fifo,
                rustix::fs::Mode::from_raw_mode(0o644),
                0,
            )
            .expect("mkfifo"),
            Kind::Link(_) => {}
        }
    }
    for entry in entries {
        if let Kind::Link(choice) = entry.kind {
            let target = link_target(entries, entry, choice);
            std::os::unix::fs::symlink(target, tree.join(&entry.path)).expect("symlink");
        }
    }
}

/// The paths given for `invocation`: never a link leading to a directory outside the tree,
/// which would put that directory in the paths given (a directory named is migrated).
fn roots(invocation: Invocation, entries: &[Entry]) -> Vec<PathBuf> {
    let tree = &DIRS.tree;
    let inside = |path: &PathBuf| {
        !std::fs::metadata(path).is_ok_and(|metadata| metadata.is_dir())
            || std::fs::canonicalize(path).is_ok_and(|target| target.starts_with(tree))
    };
    let named = |count: usize| {
        entries
            .iter()
            .map(|entry| tree.join(&entry.path))
            .filter(inside)
            .take(count)
    };
    let roots: Vec<PathBuf> = match invocation.roots {
        0 => vec![tree.clone()],
        1 => std::iter::once(tree.clone()).chain(named(2)).collect(),
        2 => named(3).collect(),
        _ => entries
            .iter()
            .filter(|entry| matches!(entry.kind, Kind::Dir))
            .map(|entry| tree.join(&entry.path))
            .take(1)
            .collect(),
    };
    if roots.is_empty() {
        vec![tree.clone()]
    } else {
        roots
    }
}

/// One run of `hardport migrate` over `roots`, as src/cli.rs runs it, one file at a time (so
/// a panic reaches libFuzzer instead of becoming an internal error).
fn run(
    roots: &[PathBuf],
    invocation: Invocation,
    write: bool,
) -> (Vec<FileReport>, Vec<WalkError>) {
    let scope = Scope::of(roots);
    let walk = Walk {
        threads: NonZeroUsize::MIN,
        include_vendored: invocation.include_vendored,
        max_file_size: invocation.max_file_size,
    };
    let discovery = discover(roots, &scope, walk);
    let charts = ChartCache::new(invocation.max_file_size);
    let patch_base = PatchBase::new(DIRS.tree.clone(), None);
    let kustomizations = Kustomizations::of(&discovery.files, invocation.max_file_size);
    let options = FileOptions {
        mode: if write {
            WriteMode::Write(&scope)
        } else {
            WriteMode::DryRun
        },
        max_file_size: invocation.max_file_size,
        charts: &charts,
        patch_base: &patch_base,
        verify: None,
        rules: &hardport::config::EVERY_RULE,
        kustomizations: &kustomizations,
    };
    let reports = discovery
        .files
        .iter()
        .filter_map(|file| process_file(file, Context::new(&MINIMUS), options))
        .collect();
    (reports, discovery.errors)
}

/// What a path holds, read without following links.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    File(Vec<u8>),
    Dir,
    Link(PathBuf),
    Other,
}

/// Everything below `DIRS.base`, by path relative to it.
fn snapshot() -> BTreeMap<PathBuf, Node> {
    fn visit(dir: &Path, into: &mut BTreeMap<PathBuf, Node>) {
        for entry in std::fs::read_dir(dir).expect("read_dir").flatten() {
            let path = entry.path();
            let kind = entry.file_type().expect("file type");
            let node = if kind.is_symlink() {
                Node::Link(std::fs::read_link(&path).expect("read_link"))
            } else if kind.is_dir() {
                visit(&path, into);
                Node::Dir
            } else if kind.is_file() {
                Node::File(std::fs::read(&path).expect("read"))
            } else {
                Node::Other
            };
            let relative = path.strip_prefix(&DIRS.base).expect("below base");
            into.insert(relative.to_path_buf(), node);
        }
    }
    let mut nodes = BTreeMap::new();
    visit(&DIRS.base, &mut nodes);
    nodes
}

/// The report of a run in every format: the marker may be in none of them.
fn assert_quotes_nothing_outside(reports: &[FileReport], errors: &[WalkError]) {
    let report = Report::new(Mode::DryRun, vec!["fuzz".into()], &MINIMUS, reports, errors);
    let rendered = [
        serde_json::to_string(&report).expect("the JSON report serializes"),
        markdown::render(&report),
        serde_json::to_string(&sarif::log(&report)).expect("the SARIF log serializes"),
        format!("{reports:?} {errors:?}"),
    ];
    for text in rendered {
        assert!(
            !text.contains(MARKER),
            "a report quotes a file outside the paths given:\n{text}"
        );
    }
}

fn assert_no_internal_error(reports: &[FileReport]) {
    for report in reports {
        if let Err(error @ (FileError::Internal(_) | FileError::Write(_))) = &report.outcome {
            panic!("{}: {error}", report.display_path);
        }
    }
}

/// Target `tree`: see the module documentation. The first byte chooses the paths given (bits
/// 0–1), `--max-file-size` (bits 2–3: 64, 512, 4096 bytes or the default) and
/// `--include-vendored` (bit 4); then each entry is a parent byte, a name byte, a kind byte
/// and its content or link-target byte.
pub fn tree(data: &[u8]) {
    let (invocation, entries) = decode(data);
    build(&entries);
    let roots = roots(invocation, &entries);
    let before = snapshot();

    // A dry run changes nothing, and quotes nothing from outside.
    let (dry, errors) = run(&roots, invocation, false);
    assert_eq!(snapshot(), before, "a dry run changed the file system");
    assert_no_internal_error(&dry);
    assert_quotes_nothing_outside(&dry, &errors);
    // The file each report is about, links resolved.
    let resolved: Vec<Option<PathBuf>> = dry
        .iter()
        .map(|report| std::fs::canonicalize(&report.path).ok())
        .collect();
    let reached_twice = resolved
        .iter()
        .enumerate()
        .any(|(index, path)| path.is_some() && resolved[..index].contains(path));
    // Fixed finding (docs/fuzzing.md): a file reached twice, through a named link and by the
    // walk, was migrated and patched twice. Discovery keeps each file once.
    assert!(!reached_twice, "a file is reported twice");
    // What each patch will write, at the file it will write it to (links resolved).
    let targets: Vec<Option<PathBuf>> = dry
        .iter()
        .zip(&resolved)
        .map(|(report, resolved)| {
            report.patch()?;
            let target = resolved.as_ref().expect("a patched file exists");
            Some(
                target
                    .strip_prefix(&DIRS.base)
                    .expect("below base")
                    .to_path_buf(),
            )
        })
        .collect();

    // --write writes what the dry run's patches say, and nothing else.
    let (written, write_errors) = run(&roots, invocation, true);
    assert_eq!(write_errors, errors, "the walk differs between runs");
    assert_no_internal_error(&written);
    assert_quotes_nothing_outside(&written, &write_errors);
    assert_eq!(written.len(), dry.len(), "the runs found different files");
    let after = snapshot();
    let mut expected = before.clone();
    for (index, (dry_report, write_report)) in dry.iter().zip(&written).enumerate() {
        assert_eq!(dry_report.path, write_report.path);
        let Some(target) = &targets[index] else {
            assert_eq!(
                write_report.outcome, dry_report.outcome,
                "{}: --write did otherwise than the dry run",
                dry_report.display_path
            );
            continue;
        };
        assert_eq!(
            write_report.outcome, dry_report.outcome,
            "{}: --write did otherwise than the dry run",
            dry_report.display_path
        );
        let Some(Node::File(old)) = before.get(target) else {
            panic!("{}: a patch for what is not a file", target.display());
        };
        let old = String::from_utf8(old.clone()).expect("a patched file is text");
        let new = apply_patch(&old, dry_report.patch().expect("checked"));
        expected.insert(target.clone(), Node::File(new.into_bytes()));
    }
    for path in after.keys() {
        assert!(
            !path.to_string_lossy().contains(".hardport-"),
            "a temporary file is left: {}",
            path.display()
        );
    }
    assert_eq!(
        after, expected,
        "--write changed other files, or otherwise than the dry run's patches"
    );

    // A second --write, and a dry run after it, change nothing.
    for write in [true, false] {
        let (again, _) = run(&roots, invocation, write);
        assert_no_internal_error(&again);
        for report in &again {
            assert_eq!(
                report.patch(),
                None,
                "{}: a second run changes it",
                report.display_path
            );
        }
        assert_eq!(snapshot(), after, "a second run changed the file system");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Inputs that build a tree: every kind of entry, links out of the tree named and walked,
    /// ignore files, a chart, a FIFO. One process-wide directory, so one test.
    #[test]
    fn hand_made_trees_pass_every_property() {
        // A chart with templates, a Dockerfile, a FIFO where git's exclude file would be.
        let chart: &[u8] = &[
            0, 0, 2, 0, 3, 0, 1, 0, 2, 0, 3, 4, 1, 14, 0, 10, 0, 0, 0, 0, 0, 16, 7,
        ];
        // Links to the sentinels (absolute, relative, the directory, Chart.yaml, templates), to
        // `..`, to an entry, to itself; the first two named on the command line.
        let links: &[u8] = &[
            1, 0, 9, 5, 4, 0, 11, 5, 13, 0, 8, 5, 6, 0, 0, 0, 1, 0, 10, 5, 24, 0, 1, 5, 3, 0, 2, 5,
            20, 0, 3, 5, 28, 0, 17, 5, 2,
        ];
        // Ignore files at three levels, vendored and `.git` directories, names that are not
        // UTF-8, raw bytes, --include-vendored and a 512-byte limit.
        let ignored: &[u8] = &[
            20, 0, 8, 4, 1, 4, 0, 4, 1, 0, 0, 0, 0, 5, 0, 5, 0, 0, 0, 9, 0, 7, 4, 2, 0, 0, 0, 0, 6,
            4, 3, 15, 4, 4, 16, 0, 6, 0, 12, 0, 0, 0, 13, 3, 5, b'F', b'R', b'O', b'M', b' ',
        ];
        // The open finding's input: `templates`, a named link to a named values file.
        let twice: &[u8] = b"\x02\x02\x03.he\xc2\xc2\xc2\xfc(\x00\xb9\xfftemplates\xff";
        for input in [
            twice,
            chart,
            links,
            ignored,
            &[2, 0, 12, 3, 4, 0xff, b'F', 0, 0],
            &[],
        ] {
            tree(input);
            for roots in 1..4 {
                let mut input = input.to_vec();
                if let Some(flags) = input.first_mut() {
                    *flags = *flags & !3 | roots;
                    tree(&input);
                }
            }
        }
    }
}
