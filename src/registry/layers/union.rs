//! The union of the layers read so far, top layer first: for each path, what the topmost layer
//! that mentions it says (a file, a directory, a symbolic link, or deleted by a whiteout).
//!
//! Layers are read from the top down, so a path is decided by the first layer that names it,
//! and a lower layer's entry is visible only when nothing above decided it or hid it: an upper
//! whiteout of the path or of a parent (`.wh.name`), an opaque parent (`.wh..wh..opq`: the
//! directory's lower contents are gone), or a parent an upper layer made a file or a link.

use std::collections::HashMap;

/// What the topmost layer naming a path says it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Node {
    /// A regular file, hard link, device or FIFO: something that exists and is not a directory.
    File,
    Dir {
        opaque: bool,
    },
    Symlink(String),
    /// Deleted by a whiteout.
    Absent,
}

/// What a lookup found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Found {
    /// A non-directory, after following symbolic links.
    File,
    /// Absent: deleted, never there (every layer read), a directory, or a dangling link.
    Absent,
    /// Not decided by the layers read so far.
    Open,
}

/// The merged view.
#[derive(Debug, Default)]
pub(crate) struct Union {
    nodes: HashMap<String, Node>,
}

/// One layer's entries, gathered before they are merged under the layers above.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    nodes: HashMap<String, Node>,
}

/// Symbolic links followed in one lookup before giving up, as Linux's `ELOOP` does.
const MAX_LINKS: usize = 40;

/// A tar path as a key: no leading `/` or `./`, no empty or `.` components, no trailing `/`.
pub(crate) fn normalize(path: &str) -> String {
    path.split('/')
        .filter(|part| !part.is_empty() && *part != ".")
        .collect::<Vec<_>>()
        .join("/")
}

/// The parent directory of a normalised path (`""` for the root's children).
fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(parent, _)| parent)
}

impl Pending {
    /// Records one tar entry of this layer (already normalised), turning whiteouts into
    /// [`Node::Absent`] and opaque markers into an opaque directory.
    pub fn add(&mut self, path: String, node: Node) {
        let name = path.rsplit('/').next().unwrap_or(&path);
        if name == ".wh..wh..opq" {
            let directory = parent(&path).to_owned();
            self.nodes.insert(directory, Node::Dir { opaque: true });
            return;
        }
        if let Some(deleted) = name.strip_prefix(".wh.") {
            let directory = parent(&path);
            let deleted = if directory.is_empty() {
                deleted.to_owned()
            } else {
                format!("{directory}/{deleted}")
            };
            self.nodes.insert(deleted, Node::Absent);
            return;
        }
        // An opaque marker may come before the directory's own entry; keep it.
        if let (Node::Dir { .. }, Some(Node::Dir { opaque: true })) = (&node, self.nodes.get(&path))
        {
            return;
        }
        self.nodes.insert(path, node);
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }
}

impl Union {
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether a lower layer's entry at `path` shows through the layers merged so far.
    pub fn visible(&self, path: &str) -> bool {
        !self.nodes.contains_key(path) && !self.hidden(path)
    }

    /// Whether an ancestor of `path` decided by an upper layer hides lower entries under it.
    fn hidden(&self, path: &str) -> bool {
        let mut ancestor = parent(path);
        while !ancestor.is_empty() {
            match self.nodes.get(ancestor) {
                Some(Node::Dir { opaque: false }) | None => {}
                Some(_) => return true,
            }
            ancestor = parent(ancestor);
        }
        false
    }

    /// Merges a layer read below every layer merged so far.
    pub fn merge(&mut self, pending: Pending) {
        let visible: Vec<(String, Node)> = pending
            .nodes
            .into_iter()
            .filter(|(path, _)| self.visible(path))
            .collect();
        self.nodes.extend(visible);
    }

    /// What `path` is, literally (no symbolic link followed): the node, `None` for absent, or
    /// `Err(())` when no layer read so far decides it and `complete` is false.
    pub fn literal(&self, path: &str, complete: bool) -> Result<Option<&Node>, ()> {
        match self.nodes.get(path) {
            Some(Node::Absent) => Ok(None),
            Some(node) => Ok(Some(node)),
            None if complete || self.hidden(path) => Ok(None),
            None => Err(()),
        }
    }

    /// Whether `path` is a non-directory once symbolic links are followed, the way `execve`
    /// would find it. `complete` says every layer has been read, so an undecided path is
    /// absent.
    pub fn lookup(&self, path: &str, complete: bool) -> Found {
        let mut pending: Vec<String> = normalize(path)
            .split('/')
            .rev()
            .map(str::to_owned)
            .collect();
        let mut resolved: Vec<String> = Vec::new();
        let mut links = 0;
        while let Some(part) = pending.pop() {
            if part == ".." {
                resolved.pop();
                continue;
            }
            resolved.push(part);
            let current = resolved.join("/");
            let last = pending.is_empty();
            match self.nodes.get(&current) {
                Some(Node::Absent) => return Found::Absent,
                Some(Node::File) if last => return Found::File,
                Some(Node::File) => return Found::Absent,
                Some(Node::Dir { .. }) if last => return Found::Absent,
                Some(Node::Dir { .. }) => {}
                Some(Node::Symlink(target)) => {
                    links += 1;
                    if links > MAX_LINKS {
                        return Found::Absent;
                    }
                    resolved.pop();
                    if target.starts_with('/') {
                        resolved.clear();
                    }
                    pending.extend(
                        target
                            .split('/')
                            .filter(|part| !part.is_empty() && *part != ".")
                            .rev()
                            .map(str::to_owned),
                    );
                }
                // A directory no layer read so far names: assume it is one and look further.
                None if !last && !self.hidden(&current) => {}
                None if complete || self.hidden(&current) => return Found::Absent,
                None => return Found::Open,
            }
        }
        Found::Absent
    }
}
