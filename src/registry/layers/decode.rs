//! Readers between the HTTP body and the tar parser: a byte cap that says it was hit (so a
//! cap is told from a corrupt layer), the digest of what was read, and decompression chosen by
//! the stream's first bytes (gzip, zstd, or a plain tar), whatever the media type claims.

use std::cell::Cell;
use std::io::{self, BufRead, Read};

use flate2::bufread::MultiGzDecoder;
use ruzstd::decoding::errors::{FrameDecoderError, ReadFrameHeaderError};
use ruzstd::decoding::{BlockDecodingStrategy, FrameDecoder};
use sha2::{Digest as _, Sha256};

/// Counts (and optionally hashes) what passes through, failing once more than `cap` bytes
/// did and setting `hit` so the caller knows the failure is the cap.
pub(crate) struct Metered<'a, R> {
    inner: R,
    pub read: u64,
    cap: u64,
    hit: &'a Cell<bool>,
    hasher: Option<Sha256>,
}

impl<'a, R: Read> Metered<'a, R> {
    pub fn new(inner: R, cap: u64, hit: &'a Cell<bool>, hash: bool) -> Self {
        Metered {
            inner,
            read: 0,
            cap,
            hit,
            hasher: hash.then(Sha256::new),
        }
    }

    /// `sha256:<hex>` of every byte read.
    pub fn digest(self) -> Option<String> {
        self.hasher
            .map(|hasher| format!("sha256:{}", super::super::manifest::hex(&hasher.finalize())))
    }
}

impl<R: Read> Read for Metered<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read = self.read.saturating_add(n as u64);
        if self.read > self.cap {
            self.hit.set(true);
            return Err(io::Error::other(format!("more than {} bytes", self.cap)));
        }
        if let Some(hasher) = &mut self.hasher {
            hasher.update(&buf[..n]);
        }
        Ok(n)
    }
}

/// The decompressed stream of a layer, by magic number.
pub(crate) fn decompress<'a, R: BufRead + 'a>(mut source: R) -> io::Result<Box<dyn Read + 'a>> {
    let head = source.fill_buf()?;
    Ok(if head.starts_with(&[0x1f, 0x8b]) {
        // Several gzip members (pigz, eStargz) are one stream.
        Box::new(MultiGzDecoder::new(source))
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Box::new(ZstdFrames::new(source))
    } else {
        Box::new(source)
    })
}

/// Every zstd frame of a stream in turn (zstd:chunked layers have many), skipping skippable
/// frames.
struct ZstdFrames<R> {
    source: R,
    decoder: FrameDecoder,
    in_frame: bool,
}

impl<R: BufRead> ZstdFrames<R> {
    fn new(source: R) -> Self {
        ZstdFrames {
            source,
            decoder: FrameDecoder::new(),
            in_frame: false,
        }
    }

    /// Starts the next frame; `false` at the end of the stream.
    fn next_frame(&mut self) -> io::Result<bool> {
        loop {
            if self.source.fill_buf()?.is_empty() {
                return Ok(false);
            }
            match self.decoder.reset(&mut self.source) {
                Ok(()) => return Ok(true),
                Err(FrameDecoderError::ReadFrameHeaderError(ReadFrameHeaderError::SkipFrame {
                    length,
                    ..
                })) => {
                    let skipped = io::copy(
                        &mut (&mut self.source).take(u64::from(length)),
                        &mut io::sink(),
                    )?;
                    if skipped < u64::from(length) {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "truncated zstd skippable frame",
                        ));
                    }
                }
                Err(error) => return Err(io::Error::new(io::ErrorKind::InvalidData, error)),
            }
        }
    }
}

impl<R: BufRead> Read for ZstdFrames<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if !self.in_frame {
                if !self.next_frame()? {
                    return Ok(0);
                }
                self.in_frame = true;
            }
            while self.decoder.can_collect() == 0 && !self.decoder.is_finished() {
                self.decoder
                    .decode_blocks(&mut self.source, BlockDecodingStrategy::UptoBlocks(1))
                    .map_err(|error| io::Error::new(io::ErrorKind::InvalidData, error))?;
            }
            let n = self.decoder.read(buf)?;
            if n > 0 {
                return Ok(n);
            }
            if self.decoder.is_finished() {
                self.in_frame = false;
            }
        }
    }
}
