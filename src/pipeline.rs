//! Migrating many files at once: on all cores, handed back in path order.
//!
//! Workers take the next file from a shared counter and send its report to the calling thread,
//! which puts the reports back in the files' order and hands each to the caller as soon as every
//! file before it is done. So output streams in path order and is byte-identical whatever the
//! number of threads, and a repository is never held in memory: a worker does not start a file
//! more than [`Limits::window_per_thread`] files per thread ahead of the last one handed back,
//! so one slow file cannot make the reports of all the others pile up behind it.
//!
//! Workers send their reports a few at a time ([`Limits::batch`]): one wake-up of the calling
//! thread per file was most of a run's context switches. The price is a little latency: a
//! finished report may wait in its worker's batch until that worker's next file is done, so
//! the output can be one file's time behind, and the window, which counts from the first
//! report not yet received, lets the other workers run ahead by the window less the batches
//! held (at least 8 files per thread with the defaults).

use std::collections::BTreeMap;
use std::num::NonZeroUsize;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Condvar, Mutex, PoisonError};

use crate::discovery::SourceFile;
use crate::migrate::{FileError, FileOptions, FileReport, process_file};
use crate::rules::Context;

/// How far workers may run ahead, and how many reports they send at once.
#[derive(Debug, Clone, Copy)]
struct Limits {
    /// Files per thread a worker may start past the report handed back last.
    window_per_thread: usize,
    /// Reports a worker sends at once (fewer when it must wait for the window, or has no file
    /// left).
    batch: usize,
}

const LIMITS: Limits = Limits {
    window_per_thread: 16,
    batch: 8,
};

/// Migrate `files` on `threads` threads and give each report to `emit`, in the order of
/// `files`. Returns how many files were processed; a YAML file the walk took as a possible
/// manifest that is none has no report (see [`process_file`]) and is counted all the same.
///
/// Setting `stop` stops the run before the next file is started; the files already started
/// finish (a file is never left half-written) and are emitted in order. The files processed
/// are always the first ones, without a gap: a worker that has taken a file waits for the
/// window to reach it even when the run is stopped (the window only waits on files being
/// processed), so every index below the last one taken is processed. An error from `emit`
/// stops the run the same way and is returned once the workers are done.
pub fn run<E>(
    files: &[SourceFile],
    context: Context<'_>,
    options: FileOptions<'_>,
    threads: NonZeroUsize,
    stop: &AtomicBool,
    emit: impl FnMut(FileReport) -> Result<(), E>,
) -> Result<usize, E> {
    run_with(files, context, options, threads, stop, emit, LIMITS)
}

/// [`run`] with other [`Limits`], for tests that make the window smaller than a batch.
fn run_with<E>(
    files: &[SourceFile],
    context: Context<'_>,
    options: FileOptions<'_>,
    threads: NonZeroUsize,
    stop: &AtomicBool,
    mut emit: impl FnMut(FileReport) -> Result<(), E>,
    limits: Limits,
) -> Result<usize, E> {
    let queue = Queue::new(threads.get() * limits.window_per_thread);
    let (sender, receiver) = mpsc::channel::<Vec<(usize, Option<FileReport>)>>();
    std::thread::scope(|scope| {
        for _ in 0..threads.get().min(files.len()) {
            let sender = sender.clone();
            let queue = &queue;
            scope.spawn(move || {
                // A batch is sent before this worker waits for the window, which may be
                // waiting for a report in it.
                let mut batch = Vec::with_capacity(limits.batch);
                let send = |batch: &mut Vec<(usize, Option<FileReport>)>| {
                    batch.is_empty() || sender.send(std::mem::take(batch)).is_ok()
                };
                while let Some(index) = queue.take(files.len(), stop, || send(&mut batch)) {
                    batch.push((index, process_guarded(&files[index], context, options)));
                    if batch.len() >= limits.batch && !send(&mut batch) {
                        return;
                    }
                }
                send(&mut batch);
            });
        }
        drop(sender);

        let mut pending = BTreeMap::new();
        let mut emitted = 0;
        let mut failure = None;
        for batch in receiver {
            pending.extend(batch);
            let before = emitted;
            while let Some(report) = pending.remove(&emitted) {
                emitted += 1;
                if let Some(report) = report
                    && failure.is_none()
                {
                    failure = emit(report).err();
                    if failure.is_some() {
                        stop.store(true, Ordering::SeqCst);
                    }
                }
            }
            if emitted > before {
                queue.handed_back(emitted);
            }
        }
        match failure {
            Some(error) => Err(error),
            None => Ok(emitted),
        }
    })
}

/// [`process_file`], with a panic (a bug in hardport) turned into an error for that file, so
/// the other files are still processed and the run still reports everything.
fn process_guarded(
    file: &SourceFile,
    context: Context<'_>,
    options: FileOptions<'_>,
) -> Option<FileReport> {
    guarded(file, || process_file(file, context, options))
}

/// The report `work` makes for `file`, or an internal error for it when `work` panics.
fn guarded(file: &SourceFile, work: impl FnOnce() -> Option<FileReport>) -> Option<FileReport> {
    catch_unwind(AssertUnwindSafe(work)).unwrap_or_else(|panic| {
        let message = panic
            .downcast_ref::<&str>()
            .map(|text| (*text).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".into());
        Some(FileReport::failed(
            file,
            FileError::Internal(format!(
                "hardport panicked ({message}); please report this with the file"
            )),
        ))
    })
}

/// The files' indexes as workers take them, and the window they may not run past.
struct Queue {
    next: AtomicUsize,
    /// How many files have been handed back, in order.
    handed_back: Mutex<usize>,
    moved: Condvar,
    window: usize,
}

impl Queue {
    fn new(window: usize) -> Queue {
        Queue {
            next: AtomicUsize::new(0),
            handed_back: Mutex::new(0),
            moved: Condvar::new(),
            window,
        }
    }

    /// The next file to process, once it is inside the window; `None` when all are taken or
    /// the run was stopped before this call. `before_waiting` runs before waiting for the
    /// window to move; when it returns false (the reports cannot be sent), `None`.
    fn take(
        &self,
        files: usize,
        stop: &AtomicBool,
        mut before_waiting: impl FnMut() -> bool,
    ) -> Option<usize> {
        if stop.load(Ordering::SeqCst) {
            return None;
        }
        let index = self.next.fetch_add(1, Ordering::SeqCst);
        if index >= files {
            return None;
        }
        let mut handed_back = self
            .handed_back
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        while index >= *handed_back + self.window {
            // Not while holding the lock: the calling thread takes it to move the window.
            drop(handed_back);
            if !before_waiting() {
                return None;
            }
            handed_back = self
                .handed_back
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if index < *handed_back + self.window {
                break;
            }
            handed_back = self
                .moved
                .wait(handed_back)
                .unwrap_or_else(PoisonError::into_inner);
        }
        Some(index)
    }

    fn handed_back(&self, count: usize) {
        *self
            .handed_back
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = count;
        self.moved.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::LazyLock;
    use std::time::Duration;

    use super::*;
    use crate::catalog::Catalog;
    use crate::discovery::FileKind;
    use crate::helm::chart::ChartCache;
    use crate::input::DEFAULT_MAX_FILE_SIZE;
    use crate::kubernetes::Kustomizations;
    use crate::migrate::WriteMode;
    use crate::patch_path::PatchBase;

    static KUSTOMIZATIONS: LazyLock<Kustomizations> = LazyLock::new(Kustomizations::default);

    fn dry_run() -> FileOptions<'static> {
        FileOptions {
            mode: WriteMode::DryRun,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            charts: &CHARTS,
            patch_base: &PATCH_BASE,
            verify: None,
            rules: &crate::config::EVERY_RULE,
            kustomizations: &KUSTOMIZATIONS,
        }
    }

    static CHARTS: ChartCache = ChartCache::new(crate::input::DEFAULT_MAX_FILE_SIZE);
    static PATCH_BASE: LazyLock<PatchBase> = LazyLock::new(PatchBase::current);

    /// `count` Dockerfiles, every third one changing (a public image) and every seventh one
    /// unparsable, in path order.
    fn dockerfiles(dir: &Path, count: usize) -> Vec<SourceFile> {
        (0..count)
            .map(|number| {
                let path = dir.join(format!("{number:03}.Dockerfile"));
                let text = match number {
                    _ if number % 7 == 0 => "FROM nginx\nRUN <<EOF\n".to_owned(),
                    _ if number % 3 == 0 => format!("FROM nginx:1.{number}\n"),
                    _ => format!("FROM scratch\nLABEL n={number}\n"),
                };
                std::fs::write(&path, text).expect("write");
                SourceFile::new(path, FileKind::Dockerfile)
            })
            .collect()
    }

    fn threads(count: usize) -> NonZeroUsize {
        NonZeroUsize::new(count).expect("not zero")
    }

    /// The reports of a run, in the order they were emitted.
    fn collect(files: &[SourceFile], thread_count: usize, stop: &AtomicBool) -> Vec<FileReport> {
        let catalog = Catalog::embedded().expect("catalog");
        let mut reports = Vec::new();
        let processed = run(
            files,
            Context::new(&catalog),
            dry_run(),
            threads(thread_count),
            stop,
            |report| -> Result<(), ()> {
                reports.push(report);
                Ok(())
            },
        )
        .expect("emit never fails");
        assert_eq!(processed, reports.len());
        reports
    }

    #[test]
    fn reports_come_back_in_file_order_and_equal_whatever_the_thread_count() {
        let dir = tempfile::tempdir().expect("tempdir");
        let files = dockerfiles(dir.path(), 200);
        let one = collect(&files, 1, &AtomicBool::new(false));
        let paths: Vec<&Path> = one.iter().map(|report| report.path.as_path()).collect();
        let expected: Vec<&Path> = files.iter().map(|file| file.path.as_path()).collect();
        assert_eq!(paths, expected);
        assert!(one.iter().any(|report| report.patch().is_some()));
        assert!(one.iter().any(|report| report.outcome.is_err()));
        for thread_count in [2, 7] {
            assert_eq!(collect(&files, thread_count, &AtomicBool::new(false)), one);
        }
    }

    #[test]
    fn a_stopped_run_starts_no_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let files = dockerfiles(dir.path(), 10);
        assert!(collect(&files, 2, &AtomicBool::new(true)).is_empty());
    }

    #[test]
    fn an_emit_error_stops_the_run_and_is_returned() {
        let dir = tempfile::tempdir().expect("tempdir");
        let files = dockerfiles(dir.path(), 300);
        let catalog = Catalog::embedded().expect("catalog");
        let stop = AtomicBool::new(false);
        let mut emitted = 0;
        let outcome = run(
            &files,
            Context::new(&catalog),
            dry_run(),
            threads(2),
            &stop,
            |_| {
                emitted += 1;
                if emitted == 3 {
                    Err("stdout closed")
                } else {
                    Ok(())
                }
            },
        );
        assert_eq!(outcome, Err("stdout closed"));
        assert_eq!(emitted, 3, "nothing is emitted after the error");
        assert!(stop.load(Ordering::SeqCst));
    }

    #[test]
    fn workers_wait_inside_the_window_even_when_stopped() {
        let queue = Queue::new(2);
        let stop = AtomicBool::new(false);
        assert_eq!(queue.take(10, &stop, || true), Some(0));
        assert_eq!(queue.take(10, &stop, || true), Some(1));
        std::thread::scope(|scope| {
            let waiting = scope.spawn(|| queue.take(10, &stop, || true));
            std::thread::sleep(Duration::from_millis(100));
            assert!(!waiting.is_finished(), "index 2 is outside the window");
            stop.store(true, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(100));
            assert!(!waiting.is_finished(), "a taken index is kept, so no gap");
            queue.handed_back(1);
            assert_eq!(waiting.join().expect("no panic"), Some(2));
        });
        assert_eq!(
            queue.take(10, &stop, || true),
            None,
            "stopped: nothing new is taken"
        );
    }

    #[test]
    fn a_worker_sends_what_it_holds_before_it_waits_for_the_window() {
        let queue = Queue::new(1);
        let stop = AtomicBool::new(false);
        let sent = AtomicBool::new(false);
        assert_eq!(queue.take(10, &stop, || panic!("no wait")), Some(0));
        std::thread::scope(|scope| {
            let waiting = scope.spawn(|| {
                queue.take(10, &stop, || {
                    sent.store(true, Ordering::SeqCst);
                    true
                })
            });
            while !sent.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(10));
            }
            queue.handed_back(1);
            assert_eq!(waiting.join().expect("no panic"), Some(1));
        });
        assert_eq!(
            queue.take(10, &stop, || false),
            None,
            "the reports could not be sent"
        );
    }

    #[test]
    fn reports_come_in_order_once_each_with_a_window_smaller_than_a_batch() {
        let dir = tempfile::tempdir().expect("tempdir");
        let files = dockerfiles(dir.path(), 60);
        let catalog = Catalog::embedded().expect("catalog");
        let paths: Vec<&Path> = files.iter().map(|file| file.path.as_path()).collect();
        let limits = Limits {
            window_per_thread: 1,
            batch: 8,
        };
        // Each round: a thread count; a full run, a stop after some files, or an `emit` error.
        for round in 0..18usize {
            let thread_count = 1 + round % 6;
            let stop = AtomicBool::new(false);
            let (stop_after, fail_at) = match round % 3 {
                0 => (None, None),
                1 => (Some(1 + round), None),
                _ => (None, Some(1 + 2 * round)),
            };
            let mut seen: Vec<&Path> = Vec::new();
            let outcome = run_with(
                &files,
                Context::new(&catalog),
                dry_run(),
                threads(thread_count),
                &stop,
                |report| {
                    let index = files
                        .iter()
                        .position(|file| file.path == report.path)
                        .expect("one of the files");
                    seen.push(paths[index]);
                    if Some(seen.len()) == stop_after {
                        stop.store(true, Ordering::SeqCst);
                    }
                    match Some(seen.len()) == fail_at {
                        true => Err(seen.len()),
                        false => Ok(()),
                    }
                },
                limits,
            );
            let emitted = match (stop_after, fail_at) {
                (None, None) => {
                    assert_eq!(outcome, Ok(files.len()), "round {round}");
                    files.len()
                }
                (Some(_), _) => outcome.expect("a stopped run is no error"),
                (_, Some(at)) => {
                    assert_eq!(outcome, Err(at), "round {round}");
                    at
                }
            };
            assert_eq!(
                seen,
                paths[..emitted],
                "round {round}: in order, no gap, once each"
            );
        }
    }

    #[test]
    fn a_panic_becomes_an_internal_error_for_that_file() {
        let file = SourceFile::new("Dockerfile".into(), FileKind::Dockerfile);
        let report = guarded(&file, || panic!("a bug")).expect("a report");
        match report.outcome {
            Err(FileError::Internal(message)) => assert!(message.contains("a bug"), "{message}"),
            other => panic!("expected an internal error, got {other:?}"),
        }
        assert_eq!(report.display_path, "Dockerfile");
    }
}
