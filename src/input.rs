//! Reading a file that may hold anything: a repository names a binary blob `Dockerfile` as
//! easily as a 2 GB log `values.yaml`, and a path named on the command line may be a FIFO.
//!
//! [`read_text`] returns the text of a file, or says why it is not text hardport will edit: too
//! large, not a regular file, a symbolic link it was not asked to follow, binary (a NUL byte, as
//! git decides), UTF-16, or not UTF-8. [`read_bytes`] is the same read without the decoding, for
//! the other files a run reads (ignore files, chart templates).
//!
//! Every read here is bounded and safe on a hostile tree: it never reads more than the size
//! limit plus one byte, so neither a huge file nor a device that never ends (`/proc/kmsg`,
//! `/dev/zero`) can take the memory of a run; it never opens what was not a regular file when
//! last looked at (by an `lstat` just before, or for [`read_walked_text`] by the walk's
//! directory entry), and opens without blocking, so a FIFO swapped in at the last moment cannot
//! hang it; and, unless told to follow links ([`Links::Follow`], only for a file named on the
//! command line), it refuses a symbolic link at the moment of opening (`O_NOFOLLOW`), so a
//! repository cannot point hardport at `/proc/self/pagemap` or at a token outside it.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;

/// The size limit when none is given: far above any real Dockerfile or values file (the
/// largest of the ≈1.2k files of the shared corpus is 266 KB), small enough that a run over a
/// repository holding stray dumps stays fast.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 8 * 1024 * 1024;

/// Why a file was not read as text. Its messages say what the file is; the caller says what
/// follows (an input is left untouched, a chart is used without it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    #[error("cannot read: {0}")]
    Io(String),
    /// Nothing at the path (`ENOENT`), or a path through something that is not a directory.
    #[error("cannot read: {0}")]
    NotFound(String),
    #[error("not a regular file")]
    NotRegular,
    #[error("a symbolic link, and hardport does not follow links inside a repository")]
    SymbolicLink,
    #[error("{size} bytes, over the size limit of {limit} bytes (raise it with --max-file-size)")]
    TooLarge { size: u64, limit: u64 },
    #[error("a NUL byte: binary, not text")]
    Binary { line: usize },
    #[error("UTF-16 text (it starts with a UTF-16 byte-order mark); hardport reads UTF-8 only")]
    Utf16,
    #[error("not UTF-8 text")]
    NotUtf8 { line: usize },
}

impl InputError {
    /// The 1-based line the error points at, when there is one.
    pub fn line(&self) -> Option<usize> {
        match self {
            InputError::Binary { line } | InputError::NotUtf8 { line } => Some(*line),
            _ => None,
        }
    }
}

/// Whether opening a file follows a symbolic link in its last component.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Links {
    /// Refuse a link ([`InputError::SymbolicLink`]): every file the walk finds, and every file
    /// a run reads beside them (`Chart.yaml`, templates, ignore files).
    Refuse,
    /// Open what the link leads to: only for a file named on the command line, whose link was
    /// checked to stay within the paths given (`crate::discovery`).
    Follow,
}

/// The text of the regular file at `path`, when it is at most `limit` bytes of UTF-8 without
/// NUL bytes.
pub fn read_text(path: &Path, limit: u64, links: Links) -> Result<String, InputError> {
    decode(read_bytes(path, limit, links)?)
}

/// [`read_text`] of a file a walk has just seen, in its directory entry, to be a regular file:
/// that look stands for the one before opening, which saves a path lookup per file. The open
/// itself still neither blocks nor follows a link, and the open descriptor must be a regular
/// file, so a file swapped for a FIFO or a link since is refused all the same.
pub fn read_walked_text(path: &Path, limit: u64) -> Result<String, InputError> {
    decode(read_opened(open_unchecked(path, Links::Refuse)?, limit)?)
}

/// The bytes of the regular file at `path`, when there are at most `limit` of them.
pub fn read_bytes(path: &Path, limit: u64, links: Links) -> Result<Vec<u8>, InputError> {
    read_opened(open_regular(path, links)?, limit)
}

/// The bytes of an opened regular file of `size` bytes, when there are at most `limit`.
fn read_opened((file, size): (File, u64), limit: u64) -> Result<Vec<u8>, InputError> {
    if size > limit {
        return Err(InputError::TooLarge { size, limit });
    }
    // Room for the whole file and one byte more, so it is read in one call and the growth
    // check's extra byte does not reallocate.
    let expected = usize::try_from(size).unwrap_or(0);
    let mut bytes = Vec::with_capacity(expected.saturating_add(1));
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|error| InputError::Io(error.to_string()))?;
    // The file grew between `fstat` and the read.
    if bytes.len() as u64 > limit {
        return Err(InputError::TooLarge {
            size: bytes.len() as u64,
            limit,
        });
    }
    Ok(bytes)
}

/// The regular file at `path`, opened for reading, and its size.
///
/// The type is checked twice: before opening (`lstat`, or `stat` when following), so that a
/// device is never opened at all (opening some has effects), and on the open descriptor
/// (`fstat`), so that a file swapped for a FIFO or a link in between is still refused. The open
/// itself does not block (`O_NONBLOCK`: a FIFO would wait for a writer) and, with
/// [`Links::Refuse`], fails on a link (`O_NOFOLLOW`).
fn open_regular(path: &Path, links: Links) -> Result<(File, u64), InputError> {
    let metadata = match links {
        Links::Refuse => std::fs::symlink_metadata(path),
        Links::Follow => std::fs::metadata(path),
    }
    .map_err(|error| match error.kind() {
        std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory => {
            InputError::NotFound(error.to_string())
        }
        _ => InputError::Io(error.to_string()),
    })?;
    if metadata.file_type().is_symlink() {
        return Err(InputError::SymbolicLink);
    }
    if !metadata.is_file() {
        return Err(InputError::NotRegular);
    }
    open_unchecked(path, links)
}

/// The file at `path`, opened for reading without a look at its type first, and its size when
/// the open descriptor is a regular file.
fn open_unchecked(path: &Path, links: Links) -> Result<(File, u64), InputError> {
    let mut flags = OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NONBLOCK | OFlags::NOCTTY;
    if links == Links::Refuse {
        flags |= OFlags::NOFOLLOW;
    }
    let file = match rustix::fs::open(path, flags, Mode::empty()) {
        Ok(fd) => File::from(fd),
        // What `O_NOFOLLOW` answers for a link (Linux, macOS; FreeBSD says `EMLINK`).
        Err(Errno::LOOP | Errno::MLINK) if links == Links::Refuse => {
            return Err(InputError::SymbolicLink);
        }
        Err(error @ (Errno::NOENT | Errno::NOTDIR)) => {
            return Err(InputError::NotFound(
                std::io::Error::from(error).to_string(),
            ));
        }
        Err(error) => return Err(InputError::Io(std::io::Error::from(error).to_string())),
    };
    let opened = file
        .metadata()
        .map_err(|error| InputError::Io(error.to_string()))?;
    if !opened.is_file() {
        return Err(InputError::NotRegular);
    }
    Ok((file, opened.len()))
}

/// The bytes as text, or why they are not.
fn decode(bytes: Vec<u8>) -> Result<String, InputError> {
    if bytes.starts_with(&[0xff, 0xfe]) || bytes.starts_with(&[0xfe, 0xff]) {
        return Err(InputError::Utf16);
    }
    let line_of =
        |bytes: &[u8], offset: usize| 1 + memchr::memchr_iter(b'\n', &bytes[..offset]).count();
    if let Some(offset) = memchr::memchr(0, &bytes) {
        return Err(InputError::Binary {
            line: line_of(&bytes, offset),
        });
    }
    String::from_utf8(bytes).map_err(|error| {
        let offset = error.utf8_error().valid_up_to();
        InputError::NotUtf8 {
            line: line_of(error.as_bytes(), offset),
        }
    })
}

/// Reads a size such as `8388608`, `512K`, `8M`, `8MiB` or `1G`: bytes, or binary multiples
/// (`K`/`KiB` = 1024, `M`/`MiB`, `G`/`GiB`; any case). Zero is refused: it would skip every
/// file that is not empty.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let digits = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    let multiplier: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        _ => {
            return Err(format!(
                "`{text}` is not a size: write bytes, or a number with K, M or G (binary: 1K = 1024 bytes)"
            ));
        }
    };
    let number: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size: it does not start with a number"))?;
    match number.checked_mul(multiplier) {
        Some(0) => Err("the size limit must be at least 1 byte".into()),
        Some(size) => Ok(size),
        None => Err(format!("`{text}` is too large a size")),
    }
}

/// Makes a FIFO at `path`, for tests of files that are not regular.
#[cfg(test)]
pub(crate) fn make_fifo(path: &Path) {
    rustix::fs::mknodat(
        rustix::fs::CWD,
        path,
        rustix::fs::FileType::Fifo,
        Mode::from_bits_truncate(0o600),
        0,
    )
    .expect("mkfifo");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_with(bytes: &[u8]) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("Dockerfile");
        std::fs::write(&path, bytes).expect("write");
        (dir, path)
    }

    #[test]
    fn text_is_read_whole() {
        let (_dir, path) = file_with(b"FROM node:20\n");
        assert_eq!(
            read_text(&path, 100, Links::Refuse).expect("text"),
            "FROM node:20\n"
        );
        let (_dir, empty) = file_with(b"");
        assert_eq!(read_text(&empty, 100, Links::Refuse).expect("text"), "");
    }

    #[test]
    fn a_file_over_the_limit_is_not_read_and_one_at_the_limit_is() {
        let (_dir, path) = file_with(&[b'a'; 10]);
        assert_eq!(
            read_text(&path, 9, Links::Refuse),
            Err(InputError::TooLarge { size: 10, limit: 9 })
        );
        assert_eq!(
            read_text(&path, 10, Links::Refuse)
                .expect("at the limit")
                .len(),
            10
        );
    }

    #[cfg(unix)]
    #[test]
    fn an_endless_device_is_not_read() {
        // `/dev/zero` is not a regular file: refused before any byte is read.
        assert_eq!(
            read_text(Path::new("/dev/zero"), 10, Links::Refuse),
            Err(InputError::NotRegular)
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_link_is_refused_unless_followed_and_a_fifo_never_blocks() {
        let (dir, path) = file_with(b"FROM node:20\n");
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&path, &link).expect("symlink");
        assert_eq!(
            read_text(&link, 100, Links::Refuse),
            Err(InputError::SymbolicLink)
        );
        assert_eq!(
            read_text(&link, 100, Links::Follow).expect("followed"),
            "FROM node:20\n"
        );
        // A FIFO with no writer: opening it for reading would wait forever.
        let fifo = dir.path().join("fifo");
        make_fifo(&fifo);
        assert_eq!(
            read_text(&fifo, 100, Links::Refuse),
            Err(InputError::NotRegular)
        );
        let to_fifo = dir.path().join("to-fifo");
        std::os::unix::fs::symlink(&fifo, &to_fifo).expect("symlink");
        assert_eq!(
            read_text(&to_fifo, 100, Links::Follow),
            Err(InputError::NotRegular)
        );
        assert_eq!(
            read_text(&to_fifo, 100, Links::Refuse),
            Err(InputError::SymbolicLink)
        );
    }

    #[test]
    fn read_bytes_is_bounded_too() {
        let (_dir, path) = file_with(&[0xff; 10]);
        assert_eq!(
            read_bytes(&path, 9, Links::Refuse),
            Err(InputError::TooLarge { size: 10, limit: 9 })
        );
        assert_eq!(
            read_bytes(&path, 10, Links::Refuse).expect("bytes").len(),
            10
        );
    }

    #[test]
    fn a_directory_is_not_a_regular_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(
            read_text(dir.path(), 10, Links::Refuse),
            Err(InputError::NotRegular)
        );
    }

    #[test]
    fn a_missing_file_is_not_found_and_says_why_it_cannot_be_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let error = read_text(&dir.path().join("missing"), 10, Links::Refuse).expect_err("missing");
        assert!(matches!(error, InputError::NotFound(_)), "{error:?}");
        assert!(error.to_string().starts_with("cannot read: "), "{error}");
        // A path through a file is missing too (`ENOTDIR`).
        let (_dir, file) = file_with(b"FROM a\n");
        let error = read_text(&file.join("below"), 10, Links::Refuse).expect_err("missing");
        assert!(matches!(error, InputError::NotFound(_)), "{error:?}");
    }

    #[test]
    fn a_walked_file_swapped_for_a_fifo_or_a_link_or_removed_is_still_refused() {
        let (dir, path) = file_with(b"FROM a\n");
        assert_eq!(read_walked_text(&path, 100), Ok("FROM a\n".to_owned()));
        let fifo = dir.path().join("fifo");
        make_fifo(&fifo);
        assert_eq!(read_walked_text(&fifo, 100), Err(InputError::NotRegular));
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&path, &link).expect("symlink");
        assert_eq!(read_walked_text(&link, 100), Err(InputError::SymbolicLink));
        let missing = read_walked_text(&dir.path().join("gone"), 100);
        assert!(
            matches!(missing, Err(InputError::NotFound(_))),
            "{missing:?}"
        );
        assert!(matches!(
            read_walked_text(&path, 3),
            Err(InputError::TooLarge { size: 7, limit: 3 })
        ));
    }

    #[test]
    fn binary_utf16_and_non_utf8_are_named_with_their_line() {
        let (_dir, path) = file_with(b"FROM a\nRUN b\0\n");
        assert_eq!(
            read_text(&path, 100, Links::Refuse),
            Err(InputError::Binary { line: 2 })
        );

        let (_dir, path) = file_with(b"\xff\xfeF\0R\0");
        assert_eq!(read_text(&path, 100, Links::Refuse), Err(InputError::Utf16));

        let latin1 = b"FROM a\n# caf\xe9\n";
        let (_dir, path) = file_with(latin1);
        let error = read_text(&path, 100, Links::Refuse).expect_err("latin-1");
        assert_eq!(error, InputError::NotUtf8 { line: 2 });
        assert_eq!(error.line(), Some(2));
    }

    #[test]
    fn sizes_take_binary_units() {
        assert_eq!(parse_size("8388608"), Ok(8 * 1024 * 1024));
        assert_eq!(parse_size("8M"), Ok(8 * 1024 * 1024));
        assert_eq!(parse_size("8MiB"), Ok(8 * 1024 * 1024));
        assert_eq!(parse_size("512k"), Ok(512 * 1024));
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        assert_eq!(parse_size("100b"), Ok(100));
        for bad in ["", "M", "8 MB", "8T", "-1", "1.5M", "0", "0K"] {
            assert!(parse_size(bad).is_err(), "{bad:?} parsed");
        }
        assert!(parse_size("99999999999999999999G").is_err());
    }
}
