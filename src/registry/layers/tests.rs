use std::io::Write as _;

use super::*;
use crate::registry::manifest::sha256_digest;

/// One tar entry of a test layer.
enum E<'a> {
    File(&'a str, &'a [u8]),
    Dir(&'a str),
    Link(&'a str, &'a str),
    Hard(&'a str, &'a str),
}

fn tar(entries: &[E<'_>]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for entry in entries {
        let mut header = tar::Header::new_gnu();
        header.set_mode(0o755);
        match entry {
            E::File(path, bytes) => {
                header.set_size(bytes.len() as u64);
                header.set_entry_type(tar::EntryType::Regular);
                builder.append_data(&mut header, path, *bytes).unwrap();
            }
            E::Dir(path) => {
                header.set_size(0);
                header.set_entry_type(tar::EntryType::Directory);
                builder.append_data(&mut header, path, &[][..]).unwrap();
            }
            E::Link(path, target) | E::Hard(path, target) => {
                header.set_size(0);
                header.set_entry_type(if matches!(entry, E::Link(..)) {
                    tar::EntryType::Symlink
                } else {
                    tar::EntryType::Link
                });
                builder.append_link(&mut header, path, target).unwrap();
            }
        }
    }
    builder.into_inner().unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn zstd(bytes: &[u8]) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(bytes, ruzstd::encoding::CompressionLevel::Fastest)
}

fn descriptor(bytes: &[u8]) -> Descriptor {
    Descriptor {
        digest: sha256_digest(bytes),
        size: Some(bytes.len() as u64),
        platform: None,
    }
}

/// Scans blobs given bottom layer first, as a manifest lists them; also says which were read.
fn scan_with(
    blobs: &[Vec<u8>],
    limits: &Limits,
) -> (Result<LayerFacts, RegistryError>, Vec<usize>) {
    let layers: Vec<Descriptor> = blobs.iter().map(|blob| descriptor(blob)).collect();
    let mut opened = Vec::new();
    let result = scan_layers(
        &layers,
        limits,
        |layer| {
            let index = layers
                .iter()
                .position(|l| l.digest == layer.digest)
                .unwrap();
            opened.push(index);
            Ok(Box::new(&blobs[index][..]))
        },
        |layer, message| RegistryError::Layer {
            host: "test".into(),
            reference: "test".into(),
            digest: layer.digest.clone(),
            message,
        },
    );
    (result, opened)
}

fn scan(blobs: &[Vec<u8>]) -> LayerFacts {
    scan_with(blobs, &Limits::default())
        .0
        .expect("the layers read")
}

fn ids(pairs: &[(&str, &str)]) -> Option<BTreeMap<String, Id>> {
    Some(
        pairs
            .iter()
            .map(|(name, id)| ((*name).to_owned(), Id((*id).to_owned())))
            .collect(),
    )
}

const PASSWD_TEXT: &[u8] = b"root:x:0:0:root:/root:/bin/sh\n# comment\nnode:x:1000:1001::/home/node:/bin/sh\n+nis\nbroken line\nnode:x:2000:2000::/:/bin/false\n";
const GROUP_TEXT: &[u8] = b"root:x:0:\nnode:x:1001:\nwheel:x:10:root,node\n";

#[test]
fn one_layer_answers_everything_with_names_to_ids() {
    let layer = gzip(&tar(&[
        E::Dir("etc/"),
        E::File("etc/passwd", PASSWD_TEXT),
        E::File("./etc/group", GROUP_TEXT),
        E::File("bin/busybox", b"\x7fELF"),
        E::Link("bin/sh", "/bin/busybox"),
        E::File("sbin/apk", b"\x7fELF"),
        E::File(
            "etc/os-release",
            b"NAME=\"Wolfi\"\nID=wolfi\nPRETTY_NAME=\"Wolfi\"\n",
        ),
    ]));
    let facts = scan(&[layer]);
    assert_eq!(facts.distribution, Some(Some("wolfi".into())));
    // The first line for a name wins, as for getpwnam.
    assert_eq!(facts.users, ids(&[("node", "1000"), ("root", "0")]));
    assert_eq!(
        facts.groups,
        ids(&[("node", "1001"), ("root", "0"), ("wheel", "10")])
    );
    let primary = facts.primary_groups.unwrap();
    assert_eq!(primary.get("node"), Some(&Id("1001".into())));
    assert_eq!(primary.get("1000"), Some(&Id("1001".into())));
    assert_eq!(facts.shell, Some(true));
    assert_eq!(facts.package_manager, Some(Some("apk".into())));
    assert!(facts.unknown.is_empty(), "{:?}", facts.unknown);
}

#[test]
fn reading_stops_at_the_first_layer_that_answers_everything() {
    let base = gzip(&tar(&[E::File("etc/passwd", b"old:x:1:1::/:/bin/sh\n")]));
    let top = gzip(&tar(&[
        E::File("etc/passwd", b"app:x:10:10::/:/bin/sh\n"),
        E::File("etc/group", b"app:x:10:\n"),
        E::File("etc/os-release", b"ID=debian\n"),
        E::File("bin/sh", b"\x7fELF"),
        E::File("usr/bin/apt-get", b"\x7fELF"),
    ]));
    let (facts, opened) = scan_with(&[base, top], &Limits::default());
    assert_eq!(opened, vec![1], "only the top layer is read");
    let facts = facts.unwrap();
    assert_eq!(facts.users, ids(&[("app", "10")]));
    assert_eq!(facts.package_manager, Some(Some("apt".into())));
    assert_eq!(facts.layers_read, 1);
}

#[test]
fn a_whiteout_in_an_upper_layer_deletes_the_lower_file() {
    let base = gzip(&tar(&[
        E::File("etc/passwd", PASSWD_TEXT),
        E::File("etc/group", GROUP_TEXT),
        E::File("bin/sh", b"\x7fELF"),
        E::File("sbin/apk", b"\x7fELF"),
    ]));
    let top = gzip(&tar(&[
        E::File("etc/.wh.group", b""),
        E::File("bin/.wh.sh", b""),
        E::File("sbin/.wh.apk", b""),
    ]));
    let facts = scan(&[base, top]);
    assert_eq!(facts.users, ids(&[("node", "1000"), ("root", "0")]));
    assert_eq!(facts.groups, Some(BTreeMap::new()), "deleted: no groups");
    assert_eq!(facts.shell, Some(false));
    assert_eq!(facts.package_manager, Some(None));
}

#[test]
fn an_opaque_directory_hides_what_lower_layers_put_in_it() {
    let base = zstd(&tar(&[
        E::File("etc/passwd", PASSWD_TEXT),
        E::File("etc/group", GROUP_TEXT),
        E::File("usr/bin/apt-get", b"\x7fELF"),
    ]));
    let top = zstd(&tar(&[
        E::Dir("etc/"),
        E::File("etc/.wh..wh..opq", b""),
        E::File(
            "etc/passwd",
            b"nonroot:x:65532:65532::/home/nonroot:/sbin/nologin\n",
        ),
    ]));
    let facts = scan(&[base, top]);
    assert_eq!(facts.users, ids(&[("nonroot", "65532")]));
    assert_eq!(
        facts.groups,
        Some(BTreeMap::new()),
        "the lower group file is hidden"
    );
    assert_eq!(facts.package_manager, Some(Some("apt".into())));
    assert_eq!(facts.shell, Some(false));
}

#[test]
fn links_are_followed_through_merged_usr_and_alternatives() {
    // Debian bookworm: /bin -> usr/bin, /bin/sh -> dash; the link is in a lower layer than the
    // shell itself.
    let base = tar(&[
        E::Link("bin", "usr/bin"),
        E::Dir("usr/bin/"),
        E::Link("usr/bin/sh", "dash"),
    ]);
    let top = tar(&[
        E::File("usr/bin/dash", b"\x7fELF"),
        E::Link("usr/bin/dnf", "../../usr/bin/dnf-3"),
        E::File("usr/bin/dnf-3", b"#!"),
    ]);
    let facts = scan(&[base, top]);
    assert_eq!(facts.shell, Some(true));
    assert_eq!(facts.package_manager, Some(Some("dnf".into())));
}

#[test]
fn a_dangling_or_looping_shell_link_is_no_shell() {
    assert_eq!(
        scan(&[tar(&[E::Link("bin/sh", "busybox")])]).shell,
        Some(false)
    );
    assert_eq!(
        scan(&[tar(&[E::Link("bin/sh", "sh2"), E::Link("bin/sh2", "sh")])]).shell,
        Some(false)
    );
    // A hard link is a file.
    let hard = tar(&[
        E::File("bin/busybox", b"\x7fELF"),
        E::Hard("bin/sh", "bin/busybox"),
    ]);
    assert_eq!(scan(&[hard]).shell, Some(true));
}

#[test]
fn no_layers_means_an_empty_image() {
    let facts = scan(&[]);
    assert_eq!(facts.users, Some(BTreeMap::new()));
    assert_eq!(facts.shell, Some(false));
    assert_eq!(facts.package_manager, Some(None));
}

#[test]
fn a_linked_or_oversized_passwd_is_unknown_with_the_reason() {
    let linked = scan(&[tar(&[E::Link("etc/passwd", "/usr/lib/passwd")])]);
    assert_eq!(linked.users, None);
    assert!(
        linked
            .unknown
            .iter()
            .any(|line| line.starts_with("users:") && line.contains("symbolic link")),
        "{:?}",
        linked.unknown
    );
    let limits = Limits {
        file_bytes: 10,
        ..Limits::default()
    };
    let (facts, _) = scan_with(&[tar(&[E::File("etc/passwd", PASSWD_TEXT)])], &limits);
    let facts = facts.unwrap();
    assert_eq!(facts.users, None);
    assert!(
        facts
            .unknown
            .iter()
            .any(|line| line.contains("over the 10-byte limit")),
        "{:?}",
        facts.unknown
    );
}

#[test]
fn a_cap_keeps_what_was_decided_and_names_the_rest() {
    let mut big = vec![E::File("etc/passwd", PASSWD_TEXT)];
    let filler = vec![0_u8; 64 << 10];
    big.push(E::File("var/filler", &filler));
    let limits = Limits {
        layer_bytes: 16 << 10,
        ..Limits::default()
    };
    let (facts, _) = scan_with(&[tar(&big)], &limits);
    let facts = facts.unwrap();
    assert_eq!(
        facts.users,
        ids(&[("node", "1000"), ("root", "0")]),
        "read before the cap"
    );
    assert_eq!(
        facts.shell, None,
        "undecided: the rest of the layer was not read"
    );
    assert!(
        facts
            .unknown
            .iter()
            .any(|line| line.starts_with("shell:") && line.contains("read limits")),
        "{:?}",
        facts.unknown
    );
    // A decompression bomb stops at the unpacked cap the same way.
    let limits = Limits {
        unpacked_layer_bytes: 16 << 10,
        ..Limits::default()
    };
    let (facts, _) = scan_with(&[gzip(&tar(&big))], &limits);
    assert_eq!(facts.unwrap().shell, None);
}

#[test]
fn corrupt_layers_are_errors_never_panics() {
    let good = gzip(&tar(&[E::File("etc/passwd", PASSWD_TEXT)]));
    let truncated = good[..good.len() / 2].to_vec();
    let (result, _) = scan_with(&[truncated], &Limits::default());
    let error = result.unwrap_err().to_string();
    assert!(error.starts_with("cannot read layer sha256:"), "{error}");
    let mut flipped = good.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0xff;
    assert!(scan_with(&[flipped], &Limits::default()).0.is_err());
    // Not a tar at all.
    assert!(
        scan_with(
            &[b"just text, no tar header here".repeat(40)],
            &Limits::default()
        )
        .0
        .is_err()
    );
    assert!(
        scan_with(&[vec![0x28, 0xb5, 0x2f, 0xfd, 1, 2, 3]], &Limits::default())
            .0
            .is_err()
    );
}

#[test]
fn a_layer_whose_digest_is_wrong_is_an_error() {
    let blob = gzip(&tar(&[E::File("etc/passwd", PASSWD_TEXT)]));
    let mut layer = descriptor(&blob);
    layer.digest = sha256_digest(b"something else");
    let result = scan_layers(
        &[layer],
        &Limits::default(),
        |_| Ok(Box::new(&blob[..])),
        |_, message| RegistryError::Layer {
            host: "h".into(),
            reference: "r".into(),
            digest: "d".into(),
            message,
        },
    );
    assert!(
        result
            .unwrap_err()
            .to_string()
            .contains("its content has digest")
    );
}

#[test]
fn the_distribution_is_the_os_release_id_also_through_debians_link() {
    let debian = gzip(&tar(&[
        E::File(
            "usr/lib/os-release",
            b"PRETTY_NAME=\"Debian GNU/Linux 12\"\nID=\"debian\"\n",
        ),
        E::Link("etc/os-release", "../usr/lib/os-release"),
    ]));
    assert_eq!(scan(&[debian]).distribution, Some(Some("debian".into())));
    let none = gzip(&tar(&[E::File("bin/app", b"\x7fELF")]));
    assert_eq!(
        scan(&[none]).distribution,
        Some(None),
        "no file: none, not unknown"
    );
    let odd = gzip(&tar(&[E::File("etc/os-release", b"ID=$(reboot)\n")]));
    assert_eq!(scan(&[odd]).distribution, Some(None), "not an id: none");
}
