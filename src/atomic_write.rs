//! Replacing a file so that a reader, a crash, a full disk, Ctrl-C or a race never loses an
//! edit or writes where nobody asked.
//!
//! The new content goes to a temporary file in the same directory (so the rename stays on one
//! file system), gets the original's permission bits and (where allowed) owner, is flushed to
//! disk, and is renamed over the original; then the directory is flushed too (best effort: not
//! every file system can), so the rename itself survives a power loss. If anything fails before
//! the rename, the temporary file is removed and the original is untouched.
//!
//! Before writing, [`write()`] refuses what a careful person would not overwrite: a read-only
//! file, a file this user may not write, a file that changed since it was read (an editor saved
//! it during the run), and a file that lies, through a symbolic link, outside the paths the run
//! was given ([`Scope`]). A symbolic link inside them is written through: its target gets the
//! new content and the link stays a link.
//!
//! Races are closed by never resolving a path string twice. The path is resolved once and
//! checked against the scope; from then on everything happens relative to directory
//! descriptors opened from the scope's root one component at a time without following links
//! (`openat`, `renameat`), so a directory swapped for a link during the run cannot redirect the
//! write (a root run cannot be made to write into `/root`). The original is checked again
//! (inode, size, modification time and content) after the temporary file is flushed and just
//! before the rename, so an edit saved meanwhile is reported, not overwritten.
//!
//! Every write holds a shared lock from creating its temporary file until the rename;
//! [`pause_writes`] takes it exclusively, so a process that must exit at once (a second Ctrl-C)
//! can wait for the write in progress and never leave a temporary file behind.

use std::ffi::OsStr;
use std::fs::{File, Metadata};
use std::io::{self, Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use rustix::fd::OwnedFd;
use rustix::fs::{AtFlags, Mode, OFlags};
use rustix::io::Errno;

use crate::scope::Scope;

/// Held shared by every write in progress, exclusively by [`pause_writes`].
static WRITES: RwLock<()> = RwLock::new(());

/// Waits until no write is in progress and keeps new ones from starting while the guard lives.
pub fn pause_writes() -> RwLockWriteGuard<'static, ()> {
    WRITES.write().unwrap_or_else(PoisonError::into_inner)
}

/// Why a file was not replaced. The original is untouched in every case.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("the file is read-only")]
    ReadOnly,
    #[error("permission denied: this user may not write the file")]
    PermissionDenied,
    #[error("the file changed since hardport read it (edited during the run?); run hardport again")]
    Changed,
    #[error(
        "it leads, through a symbolic link, to {}, outside the paths being migrated; migrate that file itself to change it",
        target.display()
    )]
    OutsideScope { target: PathBuf },
    #[error(
        "{} was replaced by a symbolic link or another kind of file during the run; not followed",
        component.display()
    )]
    Swapped { component: PathBuf },
    #[error("{action}: {source}")]
    Io {
        action: &'static str,
        #[source]
        source: io::Error,
    },
}

/// Atomically replace the contents of the existing file at `path` with `contents`, keeping its
/// permissions and owner, provided it still holds `expected` and lies within `scope`.
pub fn write(
    path: &Path,
    expected: &[u8],
    contents: &[u8],
    scope: &Scope,
) -> Result<(), WriteError> {
    Resolved::new(path, scope)?
        .open()?
        .stage(expected, contents)?
        .commit(expected)
}

fn io_error(action: &'static str) -> impl FnOnce(Errno) -> WriteError {
    move |errno| WriteError::Io {
        action,
        source: io::Error::from(errno),
    }
}

/// A file to replace: its directory, opened without following a link on the way from the
/// scope's root, and its name in it.
#[derive(Debug)]
struct Place {
    dir: OwnedFd,
    name: PathBuf,
    /// The resolved path, for messages.
    target: PathBuf,
}

/// A path resolved once and found within the scope: the scope's root that holds it, and the
/// resolved path.
#[derive(Debug)]
struct Resolved {
    root: PathBuf,
    target: PathBuf,
}

impl Resolved {
    fn new(path: &Path, scope: &Scope) -> Result<Resolved, WriteError> {
        let target = std::fs::canonicalize(path).map_err(|source| WriteError::Io {
            action: "resolving the path",
            source,
        })?;
        match scope.root_of(&target) {
            Some(root) => Ok(Resolved {
                root: root.to_path_buf(),
                target,
            }),
            None => Err(WriteError::OutsideScope { target }),
        }
    }

    /// Open the file's directory from the root one component at a time, refusing a link at
    /// each: a directory swapped for a link since [`Resolved::new`] is not followed.
    fn open(self) -> Result<Place, WriteError> {
        let Resolved { root, target } = self;
        let relative = target.strip_prefix(&root).unwrap_or(Path::new(""));
        let mut components: Vec<&OsStr> = relative
            .components()
            .filter_map(|component| match component {
                Component::Normal(name) => Some(name),
                _ => None,
            })
            .collect();
        let Some(name) = components.pop() else {
            // The scope's root itself: a directory, never a file to replace.
            return Err(WriteError::Swapped { component: target });
        };
        let dir = open_directory(&root, &components)?;
        Ok(Place {
            dir,
            name: PathBuf::from(name),
            target,
        })
    }
}

/// The directory `components` below `root` (a resolved path), opened one component at a time
/// without following a link: a component swapped for a link is [`WriteError::Swapped`].
fn open_directory(root: &Path, components: &[&OsStr]) -> Result<OwnedFd, WriteError> {
    let directory = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let mut dir = rustix::fs::open(root, directory, Mode::empty())
        .map_err(io_error("opening the directory"))?;
    let mut walked = root.to_path_buf();
    for component in components {
        walked.push(component);
        dir = rustix::fs::openat(
            &dir,
            *component,
            directory | OFlags::NOFOLLOW,
            Mode::empty(),
        )
        .map_err(|errno| match errno {
            Errno::LOOP | Errno::MLINK | Errno::NOTDIR => WriteError::Swapped {
                component: walked.clone(),
            },
            other => io_error("opening the directory")(other),
        })?;
    }
    Ok(dir)
}

/// Create the file at `path`, which must not exist, with `contents`, whole or not at all: the
/// contents go to a flushed temporary file, which is then linked to `path` (`linkat`, which
/// fails rather than replace a file that appeared meanwhile) and removed. For files hardport
/// makes rather than migrates (`hardport.lock`); its directory must lie within `scope`.
pub fn create(path: &Path, contents: &[u8], scope: &Scope) -> Result<(), WriteError> {
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let Some(name) = path.file_name() else {
        return Err(WriteError::Swapped {
            component: path.to_path_buf(),
        });
    };
    let dir_target = std::fs::canonicalize(parent).map_err(|source| WriteError::Io {
        action: "resolving the directory",
        source,
    })?;
    let Some(root) = scope.root_of(&dir_target) else {
        return Err(WriteError::OutsideScope { target: dir_target });
    };
    let components: Vec<&OsStr> = dir_target
        .strip_prefix(root)
        .unwrap_or(Path::new(""))
        .components()
        .filter_map(|component| match component {
            Component::Normal(name) => Some(name),
            _ => None,
        })
        .collect();
    let place = Place {
        dir: open_directory(root, &components)?,
        name: PathBuf::from(name),
        target: dir_target.join(name),
    };
    let _writing = WRITES.read().unwrap_or_else(PoisonError::into_inner);
    let (temp_name, mut temp) = place.create_temporary(Mode::from_raw_mode(0o666))?;
    let written = temp
        .write_all(contents)
        .and_then(|()| temp.sync_all())
        .map_err(|source| WriteError::Io {
            action: "writing the temporary file",
            source,
        })
        .and_then(|()| {
            rustix::fs::linkat(
                &place.dir,
                &temp_name,
                &place.dir,
                &place.name,
                AtFlags::empty(),
            )
            .map_err(|errno| match errno {
                Errno::EXIST => WriteError::Changed,
                other => io_error("linking the new file into place")(other),
            })
        });
    let _ = rustix::fs::unlinkat(&place.dir, &temp_name, AtFlags::empty());
    written?;
    let _ = rustix::fs::fsync(&place.dir);
    Ok(())
}

impl Place {
    /// The file as it is now: opened for reading without following a link or blocking.
    fn open_original(&self) -> Result<(File, Metadata), WriteError> {
        let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
        let file = rustix::fs::openat(&self.dir, &self.name, flags, Mode::empty())
            .map(File::from)
            .map_err(|errno| self.swapped_or(errno, "opening the file"))?;
        let metadata = file.metadata().map_err(|source| WriteError::Io {
            action: "reading the file's metadata",
            source,
        })?;
        if !metadata.is_file() {
            return Err(WriteError::Swapped {
                component: self.target.clone(),
            });
        }
        Ok((file, metadata))
    }

    fn swapped_or(&self, errno: Errno, action: &'static str) -> WriteError {
        match errno {
            Errno::LOOP | Errno::MLINK => WriteError::Swapped {
                component: self.target.clone(),
            },
            other => io_error(action)(other),
        }
    }

    /// Check the original, then write `contents` to a flushed temporary file beside it.
    fn stage(self, expected: &[u8], contents: &[u8]) -> Result<Staged, WriteError> {
        let (mut original, metadata) = self.open_original()?;
        if metadata.permissions().readonly() {
            return Err(WriteError::ReadOnly);
        }
        // Opening for writing (without truncating) asks the operating system the question the
        // rename would not: may this user change this file?
        let writable = OFlags::WRONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
        rustix::fs::openat(&self.dir, &self.name, writable, Mode::empty()).map_err(|errno| {
            match errno {
                Errno::ACCESS | Errno::PERM => WriteError::PermissionDenied,
                other => self.swapped_or(other, "opening the file for writing"),
            }
        })?;
        if !holds(&mut original, expected)? {
            return Err(WriteError::Changed);
        }

        let writing = WRITES.read().unwrap_or_else(PoisonError::into_inner);
        let (temp_name, mut temp) = self.create_temporary(Mode::from_raw_mode(0o600))?;
        let staged = Staged {
            place: self,
            temp_name,
            before: metadata,
            _writing: writing,
            committed: false,
        };
        let flush = |result: io::Result<()>, action| {
            result.map_err(|source| WriteError::Io { action, source })
        };
        flush(temp.write_all(contents), "writing the temporary file")?;
        keep_owner(&temp, &staged.before);
        flush(
            temp.set_permissions(staged.before.permissions()),
            "setting the file mode",
        )?;
        flush(temp.sync_all(), "flushing the temporary file to disk")?;
        Ok(staged)
    }

    /// A new file `.hardport-*.tmp` beside the original, with `mode` (less the umask): a
    /// replacement is this user's alone until it gets the original's mode.
    fn create_temporary(&self, mode: Mode) -> Result<(PathBuf, File), WriteError> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let flags =
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        loop {
            let unique = COUNTER.fetch_add(1, Ordering::Relaxed);
            let name = PathBuf::from(format!(".hardport-{}-{unique}.tmp", std::process::id()));
            match rustix::fs::openat(&self.dir, &name, flags, mode) {
                Ok(fd) => return Ok((name, File::from(fd))),
                // Left by an earlier run of the same process id: take the next name.
                Err(Errno::EXIST) => continue,
                Err(errno) => return Err(io_error("creating a temporary file beside it")(errno)),
            }
        }
    }
}

/// Whether `file`, read from its start, holds exactly `expected`.
fn holds(file: &mut File, expected: &[u8]) -> Result<bool, WriteError> {
    let mut current = Vec::with_capacity(expected.len().saturating_add(1));
    file.take(expected.len() as u64 + 1)
        .read_to_end(&mut current)
        .map_err(|source| WriteError::Io {
            action: "reading the file again",
            source,
        })?;
    Ok(current == expected)
}

/// A flushed temporary file holding the new content, not yet renamed over the original. Dropped
/// uncommitted, it is removed.
#[derive(Debug)]
struct Staged {
    place: Place,
    temp_name: PathBuf,
    /// The original as it was checked before staging.
    before: Metadata,
    _writing: RwLockReadGuard<'static, ()>,
    committed: bool,
}

impl Staged {
    /// Check the original once more (same inode, size, modification time, and still
    /// `expected`), then rename the temporary file over it and flush the directory.
    fn commit(mut self, expected: &[u8]) -> Result<(), WriteError> {
        let (mut now, metadata) = self.place.open_original()?;
        let unchanged = metadata.dev() == self.before.dev()
            && metadata.ino() == self.before.ino()
            && metadata.size() == self.before.size()
            && (metadata.mtime(), metadata.mtime_nsec())
                == (self.before.mtime(), self.before.mtime_nsec());
        if !unchanged || !holds(&mut now, expected)? {
            return Err(WriteError::Changed);
        }
        let dir = &self.place.dir;
        rustix::fs::renameat(dir, &self.temp_name, dir, &self.place.name)
            .map_err(io_error("renaming the temporary file over the file"))?;
        self.committed = true;
        // Best effort: some file systems cannot flush a directory, and the new content is in
        // place either way.
        let _ = rustix::fs::fsync(dir);
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.committed {
            let _ = rustix::fs::unlinkat(&self.place.dir, &self.temp_name, AtFlags::empty());
        }
    }
}

/// Give `file` the owner and group of the file it replaces, as far as this user may: the
/// temporary file belongs to whoever runs hardport, and a root run must not hand a user's file
/// to root. Only root may give a file away, so a user who may write someone else's file (a
/// group-writable one) ends up owning the new one, keeping its group if a member of it, as with
/// `sed -i` or a `git checkout`; the write is not refused for that.
fn keep_owner(file: &File, original: &Metadata) {
    use std::os::unix::fs::fchown;
    let Ok(new) = file.metadata() else { return };
    let uid = (new.uid() != original.uid()).then_some(original.uid());
    let gid = (new.gid() != original.gid()).then_some(original.gid());
    if (uid.is_some() || gid.is_some()) && fchown(file, uid, gid).is_err() && gid.is_some() {
        let _ = fchown(file, None, gid);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names_in(dir: &Path) -> Vec<std::ffi::OsString> {
        let mut names: Vec<_> = std::fs::read_dir(dir)
            .expect("read_dir")
            .map(|entry| entry.expect("entry").file_name())
            .collect();
        names.sort();
        names
    }

    fn scope_of(dir: &Path) -> Scope {
        Scope::of(&[dir.to_path_buf()])
    }

    #[test]
    fn replaces_contents_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("Dockerfile");
        std::fs::write(&path, "old").expect("write");
        write(&path, b"old", b"new", &scope_of(dir.path())).expect("atomic write");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "new");
        assert_eq!(names_in(dir.path()), ["Dockerfile"]);
    }

    #[cfg(unix)]
    #[test]
    fn keeps_the_mode_bits() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("Dockerfile");
        std::fs::write(&path, "old").expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o750)).expect("chmod");
        write(&path, b"old", b"new", &scope_of(dir.path())).expect("atomic write");
        let mode = std::fs::metadata(&path)
            .expect("metadata")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o750);
    }

    #[cfg(unix)]
    #[test]
    fn keeps_the_owner_when_root_replaces_another_users_file() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("Dockerfile");
        std::fs::write(&path, "old").expect("write");
        let runner = std::fs::metadata(&path).expect("metadata").uid();
        let other = if runner == 65534 { 65533 } else { 65534 };
        // Only root may give a file away; as anyone else the file stays the runner's and
        // there is nothing to keep.
        if std::os::unix::fs::chown(&path, Some(other), Some(other)).is_err() {
            eprintln!("skipped: not running as root, cannot make a file owned by another user");
            return;
        }
        write(&path, b"old", b"new", &scope_of(dir.path())).expect("atomic write");
        let metadata = std::fs::metadata(&path).expect("metadata");
        assert_eq!((metadata.uid(), metadata.gid()), (other, other));
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "new");
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_inside_the_scope_is_written_through_and_stays_a_link() {
        let dir = tempfile::tempdir().expect("tempdir");
        let target = dir.path().join("real.Dockerfile");
        let link = dir.path().join("Dockerfile");
        std::fs::write(&target, "old").expect("write");
        std::os::unix::fs::symlink(&target, &link).expect("symlink");
        write(&link, b"old", b"new", &scope_of(dir.path())).expect("atomic write");
        assert!(
            std::fs::symlink_metadata(&link)
                .expect("metadata")
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read_to_string(&target).expect("read"), "new");
        assert_eq!(names_in(dir.path()), ["Dockerfile", "real.Dockerfile"]);
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_leading_outside_the_scope_is_refused_naming_its_target() {
        let outside = tempfile::tempdir().expect("tempdir");
        let repo = tempfile::tempdir().expect("tempdir");
        let target = outside.path().join("Dockerfile");
        let link = repo.path().join("Dockerfile");
        std::fs::write(&target, "old").expect("write");
        std::os::unix::fs::symlink(&target, &link).expect("symlink");
        let error = write(&link, b"old", b"new", &scope_of(repo.path())).expect_err("outside");
        let resolved = std::fs::canonicalize(&target).expect("canonical");
        assert!(
            matches!(&error, WriteError::OutsideScope { target } if *target == resolved),
            "{error:?}"
        );
        assert!(error.to_string().contains(&resolved.display().to_string()));
        assert_eq!(std::fs::read_to_string(&target).expect("read"), "old");
        assert_eq!(names_in(outside.path()), ["Dockerfile"]);
    }

    #[test]
    fn a_file_named_alone_is_in_the_scope_of_its_directory() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("Dockerfile");
        std::fs::write(&path, "old").expect("write");
        let scope = Scope::of(std::slice::from_ref(&path));
        write(&path, b"old", b"new", &scope).expect("atomic write");
        let other = tempfile::tempdir().expect("tempdir");
        let elsewhere = other.path().join("Dockerfile");
        std::fs::write(&elsewhere, "old").expect("write");
        assert!(matches!(
            write(&elsewhere, b"old", b"new", &scope),
            Err(WriteError::OutsideScope { .. })
        ));
    }

    #[test]
    fn a_read_only_file_is_refused_and_untouched() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("Dockerfile");
        std::fs::write(&path, "old").expect("write");
        let mut permissions = std::fs::metadata(&path).expect("metadata").permissions();
        permissions.set_readonly(true);
        std::fs::set_permissions(&path, permissions).expect("chmod");
        let error = write(&path, b"old", b"new", &scope_of(dir.path())).expect_err("read-only");
        assert!(matches!(error, WriteError::ReadOnly), "{error:?}");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "old");
        assert_eq!(names_in(dir.path()), ["Dockerfile"]);
    }

    #[cfg(unix)]
    #[test]
    fn a_file_this_user_may_not_write_is_refused_and_untouched() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("Dockerfile");
        std::fs::write(&path, "old").expect("write");
        // Writable by the group and others, not by its owner (this user): not read-only, yet
        // this user may not write it.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o066)).expect("chmod");
        if std::fs::OpenOptions::new().write(true).open(&path).is_ok() {
            eprintln!("skipped: this user bypasses file permissions (root)");
            return;
        }
        let error = write(&path, b"old", b"new", &scope_of(dir.path())).expect_err("denied");
        assert!(matches!(error, WriteError::PermissionDenied), "{error:?}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "old");
    }

    #[test]
    fn a_file_that_changed_since_it_was_read_is_refused_and_untouched() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("Dockerfile");
        std::fs::write(&path, "edited").expect("write");
        let error = write(&path, b"old", b"new", &scope_of(dir.path())).expect_err("changed");
        assert!(matches!(error, WriteError::Changed), "{error:?}");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "edited");
    }

    #[test]
    fn an_edit_saved_after_staging_is_kept_and_reported() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("Dockerfile");
        std::fs::write(&path, "old").expect("write");
        let scope = scope_of(dir.path());
        // Saved in place, same size: only the content (or the modification time) tells.
        let staged = Resolved::new(&path, &scope)
            .and_then(Resolved::open)
            .and_then(|place| place.stage(b"old", b"new"))
            .expect("staged");
        std::fs::write(&path, "odd").expect("an editor saves");
        let error = staged.commit(b"old").expect_err("changed");
        assert!(matches!(error, WriteError::Changed), "{error:?}");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "odd");
        assert_eq!(
            names_in(dir.path()),
            ["Dockerfile"],
            "the temporary file is removed"
        );

        // Saved the way editors do: a new file renamed over it (a new inode).
        let staged = Resolved::new(&path, &scope)
            .and_then(Resolved::open)
            .and_then(|place| place.stage(b"odd", b"new"))
            .expect("staged");
        std::fs::write(dir.path().join("saved"), "odd").expect("write");
        std::fs::rename(dir.path().join("saved"), &path).expect("rename");
        let error = staged.commit(b"odd").expect_err("replaced");
        assert!(matches!(error, WriteError::Changed), "{error:?}");
        assert_eq!(names_in(dir.path()), ["Dockerfile"]);
    }

    /// A tree with `sub/Dockerfile`, and a directory outside it holding a `Dockerfile` with the
    /// same text (the file a swapped link would lead to, e.g. in `/root`).
    fn tree_and_outside() -> (tempfile::TempDir, PathBuf, tempfile::TempDir) {
        let tree = tempfile::tempdir().expect("tempdir");
        let outside = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(tree.path().join("sub")).expect("mkdir");
        let path = tree.path().join("sub/Dockerfile");
        std::fs::write(&path, "old").expect("write");
        std::fs::write(outside.path().join("Dockerfile"), "old").expect("write");
        (tree, path, outside)
    }

    fn swap_for_link(tree: &Path, outside: &Path) {
        std::fs::rename(tree.join("sub"), tree.join("moved")).expect("rename");
        std::os::unix::fs::symlink(outside, tree.join("sub")).expect("symlink");
    }

    #[test]
    fn a_directory_swapped_for_a_link_after_the_scope_check_is_not_followed() {
        let (tree, path, outside) = tree_and_outside();
        let resolved = Resolved::new(&path, &scope_of(tree.path())).expect("in scope");
        swap_for_link(tree.path(), outside.path());
        let error = resolved.open().expect_err("swapped");
        assert!(matches!(error, WriteError::Swapped { .. }), "{error:?}");
        assert!(error.to_string().contains("sub"), "{error}");
        assert_eq!(
            std::fs::read_to_string(outside.path().join("Dockerfile")).expect("read"),
            "old"
        );
    }

    #[test]
    fn a_directory_swapped_for_a_link_after_opening_gets_no_write_outside() {
        let (tree, path, outside) = tree_and_outside();
        let place = Resolved::new(&path, &scope_of(tree.path()))
            .and_then(Resolved::open)
            .expect("opened");
        swap_for_link(tree.path(), outside.path());
        place
            .stage(b"old", b"new")
            .and_then(|staged| staged.commit(b"old"))
            .expect("written where it was opened");
        assert_eq!(
            std::fs::read_to_string(outside.path().join("Dockerfile")).expect("read"),
            "old",
            "nothing written through the link"
        );
        assert_eq!(
            std::fs::read_to_string(tree.path().join("moved/Dockerfile")).expect("read"),
            "new"
        );
        assert_eq!(names_in(outside.path()), ["Dockerfile"]);
    }

    #[test]
    fn a_file_swapped_for_a_link_is_not_written_through() {
        let (tree, path, outside) = tree_and_outside();
        let place = Resolved::new(&path, &scope_of(tree.path()))
            .and_then(Resolved::open)
            .expect("opened");
        std::fs::remove_file(&path).expect("remove");
        std::os::unix::fs::symlink(outside.path().join("Dockerfile"), &path).expect("symlink");
        let error = place.stage(b"old", b"new").expect_err("a link");
        assert!(matches!(error, WriteError::Swapped { .. }), "{error:?}");
        assert_eq!(
            std::fs::read_to_string(outside.path().join("Dockerfile")).expect("read"),
            "old"
        );
    }

    #[test]
    fn create_makes_a_new_file_whole_and_never_replaces_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("hardport.lock");
        let scope = scope_of(dir.path());
        create(&path, b"new", &scope).expect("created");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "new");
        let error = create(&path, b"other", &scope).expect_err("exists");
        assert!(matches!(error, WriteError::Changed), "{error:?}");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "new");
        assert_eq!(names_in(dir.path()), ["hardport.lock"]);
        let outside = tempfile::tempdir().expect("tempdir");
        let error = create(&outside.path().join("x"), b"x", &scope).expect_err("outside");
        assert!(
            matches!(error, WriteError::OutsideScope { .. }),
            "{error:?}"
        );
    }

    #[test]
    fn writes_wait_while_paused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("Dockerfile");
        std::fs::write(&path, "old").expect("write");
        let scope = scope_of(dir.path());
        let paused = pause_writes();
        let writer = std::thread::spawn({
            let path = path.clone();
            move || write(&path, b"old", b"new", &scope).map_err(|error| error.to_string())
        });
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "old");
        drop(paused);
        writer.join().expect("joins").expect("written");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "new");
    }
}
