//! Reading a file that may hold anything: a repository names a binary blob `Dockerfile` as
//! easily as a 2 GB log `values.yaml`, and a path named on the command line may be a FIFO.
//!
//! [`read_text`] returns the text of a file, or says why it is not text hardport will edit: too
//! large, not a regular file, binary (a NUL byte, as git decides), UTF-16, or not UTF-8. It
//! never reads more than the size limit plus one byte, so neither a huge file nor a device that
//! never ends (`/dev/zero`) can take the memory of a run, and it never opens what is not a
//! regular file, so a FIFO cannot block it.

use std::io::Read;
use std::path::Path;

/// The size limit when none is given: far above any real Dockerfile or values file (the
/// largest of the ≈1.2k files of the shared corpus is 266 KB), small enough that a run over a
/// repository holding stray dumps stays fast.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 8 * 1024 * 1024;

/// Why a file was not read as text. The file is left untouched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    #[error("cannot read: {0}")]
    Io(String),
    #[error("not a regular file; left untouched")]
    NotRegular,
    #[error(
        "{size} bytes, over the size limit of {limit} bytes (raise it with --max-file-size); left untouched"
    )]
    TooLarge { size: u64, limit: u64 },
    #[error("a NUL byte: binary, not text; left untouched")]
    Binary { line: usize },
    #[error(
        "UTF-16 text (it starts with a UTF-16 byte-order mark); hardport reads UTF-8 only; left untouched"
    )]
    Utf16,
    #[error("not UTF-8 text; left untouched")]
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

/// The text of the regular file at `path`, when it is at most `limit` bytes of UTF-8 without
/// NUL bytes.
pub fn read_text(path: &Path, limit: u64) -> Result<String, InputError> {
    let io = |error: std::io::Error| InputError::Io(error.to_string());
    // `metadata` follows a symbolic link, as opening does; checked before opening, because
    // opening a FIFO waits for a writer.
    let metadata = std::fs::metadata(path).map_err(io)?;
    if !metadata.is_file() {
        return Err(InputError::NotRegular);
    }
    if metadata.len() > limit {
        return Err(InputError::TooLarge {
            size: metadata.len(),
            limit,
        });
    }
    // Room for the whole file and one byte more, so it is read in one call and the growth
    // check's extra byte does not reallocate.
    let expected = usize::try_from(metadata.len()).unwrap_or(0);
    let mut bytes = Vec::with_capacity(expected.saturating_add(1));
    std::fs::File::open(path)
        .map_err(io)?
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io)?;
    // The file grew between `metadata` and the read.
    if bytes.len() as u64 > limit {
        return Err(InputError::TooLarge {
            size: bytes.len() as u64,
            limit,
        });
    }
    decode(bytes)
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
        assert_eq!(read_text(&path, 100).expect("text"), "FROM node:20\n");
        let (_dir, empty) = file_with(b"");
        assert_eq!(read_text(&empty, 100).expect("text"), "");
    }

    #[test]
    fn a_file_over_the_limit_is_not_read_and_one_at_the_limit_is() {
        let (_dir, path) = file_with(&[b'a'; 10]);
        assert_eq!(
            read_text(&path, 9),
            Err(InputError::TooLarge { size: 10, limit: 9 })
        );
        assert_eq!(read_text(&path, 10).expect("at the limit").len(), 10);
    }

    #[cfg(unix)]
    #[test]
    fn an_endless_device_is_not_read() {
        // `/dev/zero` is not a regular file: refused before any byte is read.
        assert_eq!(
            read_text(Path::new("/dev/zero"), 10),
            Err(InputError::NotRegular)
        );
    }

    #[test]
    fn a_directory_is_not_a_regular_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(read_text(dir.path(), 10), Err(InputError::NotRegular));
    }

    #[test]
    fn a_missing_file_is_an_io_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let error = read_text(&dir.path().join("missing"), 10).expect_err("missing");
        assert!(matches!(error, InputError::Io(_)), "{error:?}");
    }

    #[test]
    fn binary_utf16_and_non_utf8_are_named_with_their_line() {
        let (_dir, path) = file_with(b"FROM a\nRUN b\0\n");
        assert_eq!(read_text(&path, 100), Err(InputError::Binary { line: 2 }));

        let (_dir, path) = file_with(b"\xff\xfeF\0R\0");
        assert_eq!(read_text(&path, 100), Err(InputError::Utf16));

        let latin1 = b"FROM a\n# caf\xe9\n";
        let (_dir, path) = file_with(latin1);
        let error = read_text(&path, 100).expect_err("latin-1");
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
