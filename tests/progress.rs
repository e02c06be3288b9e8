//! The progress bar, as a person sees it: hardport run with stderr on a pseudo-terminal (the
//! only place it is drawn), its frames read from the terminal's other side.

mod common;

use std::fs::File;
use std::io::Read;
use std::process::{Command, Stdio};

use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
use rustix::termios::{Winsize, tcsetwinsize};

/// A tree large enough that the run outlasts the bar's delay, even in a release build.
fn many_dockerfiles(count: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for index in 0..count {
        let sub = dir.path().join(format!("svc{index:05}"));
        std::fs::create_dir(&sub).expect("mkdir");
        std::fs::write(
            sub.join("Dockerfile"),
            "FROM node:20 AS build\nRUN npm ci\nFROM nginx:1.27\nCOPY --from=build /app /usr/share/nginx/html\n",
        )
        .expect("write");
    }
    dir
}

#[test]
fn the_bar_draws_on_a_terminal_with_one_path_per_frame() {
    let dir = many_dockerfiles(4000);
    let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY).expect("a pseudo-terminal");
    grantpt(&master).expect("grantpt");
    unlockpt(&master).expect("unlockpt");
    let name = ptsname(&master, Vec::new()).expect("ptsname");
    let slave = File::options()
        .read(true)
        .write(true)
        .open(name.to_str().expect("UTF-8 name"))
        .expect("the terminal's side");
    tcsetwinsize(
        &slave,
        Winsize {
            ws_row: 24,
            ws_col: 100,
            ws_xpixel: 0,
            ws_ypixel: 0,
        },
    )
    .expect("size");
    let mut child = Command::new(env!("CARGO_BIN_EXE_hardport"))
        .args(["migrate", "-q", "-j", "1", "."])
        .current_dir(dir.path())
        .env_remove("CI")
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(slave)
        .spawn()
        .expect("hardport runs");
    let mut screen = Vec::new();
    let mut master = File::from(master);
    let mut buffer = [0u8; 65536];
    // The terminal reports EIO once the last writer is gone.
    while let Ok(read) = master.read(&mut buffer) {
        if read == 0 {
            break;
        }
        screen.extend_from_slice(&buffer[..read]);
    }
    assert!(child.wait().expect("exit").success());
    let screen = String::from_utf8_lossy(&screen);
    // Frames are redrawn in place: split at carriage returns and escape sequences.
    let frames: Vec<&str> = screen
        .split(['\r', '\x1b'])
        .filter(|frame| frame.contains(" files "))
        .collect();
    assert!(!frames.is_empty(), "no bar was drawn: {screen:?}");
    for frame in &frames {
        assert_eq!(
            frame.matches("Dockerfile").count(),
            1,
            "one path per frame: {frame:?}"
        );
        let visible =
            frame.trim_start_matches(|c: char| c == '[' || c.is_ascii_digit() || c == 'K');
        assert!(
            visible.chars().count() <= 100,
            "the frame fits the terminal: {frame:?}"
        );
    }
    assert!(
        frames
            .iter()
            .any(|frame| frame.contains("/4000 files [") && frame.contains("] svc")),
        "a counter, a bar and the path: {:?}",
        frames.first()
    );
}
