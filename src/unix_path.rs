//! Text operations on absolute Unix paths inside an image, as Docker and Kubernetes read them:
//! no filesystem is consulted, so `..` is resolved lexically and symbolic links are not seen.

/// The longest path Linux accepts (`PATH_MAX`, with its terminating NUL). A working directory
/// longer than this cannot be created, so the build fails there; hardport treats such a path as
/// unknown rather than following it, which also keeps a chain of `WORKDIR a` lines linear (each
/// step copies a path of at most this length, not one that grows with the file).
pub const PATH_MAX: usize = 4096;

/// `path`, when a container could have it: shorter than [`PATH_MAX`].
pub fn within_path_max(path: String) -> Option<String> {
    (path.len() < PATH_MAX).then_some(path)
}

/// An absolute path with `//`, `.` and `..` resolved and no trailing `/`; `None` if relative.
pub fn clean_absolute(path: &str) -> Option<String> {
    if !path.starts_with('/') {
        return None;
    }
    Some(format!("/{}", clean_relative(path)))
}

/// A relative path with `//`, `.` and `..` resolved (never above its start); `""` for `.`.
pub fn clean_relative(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            _ => parts.push(part),
        }
    }
    parts.join("/")
}

/// If the clean path `path` is `prefix` or below it, the rest (`""` or starting with `/`).
pub fn under<'p>(path: &'p str, prefix: &str) -> Option<&'p str> {
    if prefix == "/" {
        return path
            .starts_with('/')
            .then_some(if path == "/" { "" } else { path });
    }
    let rest = path.strip_prefix(prefix)?;
    (rest.is_empty() || rest.starts_with('/')).then_some(rest)
}

/// `to` followed by `rest` (`""` or starting with `/`).
pub fn join_rest(to: &str, rest: &str) -> String {
    match rest.is_empty() {
        true => to.to_owned(),
        false => format!("{}{rest}", to.trim_end_matches('/')),
    }
}
