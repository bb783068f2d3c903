//! Nothing lost, nothing misleading (issue #16): output sets that replace the previous set
//! whole or not at all and carry one run id, a locked output directory, temporaries of killed
//! runs cleaned, hostile inputs refused with clear messages, and honest warnings.

use std::{
    fs,
    path::{Path, PathBuf},
    process::Command,
};

use lifecircle_synth::CitySpec;

use crate::support::{
    analyze_cmd, assert_clean_failure, data, lifecircle, read_json, synth_city, text,
};

/// The outputs of `analyze`, in the output directory.
const ANALYZE_FILES: [&str; 6] = [
    "communities.geojson",
    "residences.geojson",
    "facilities.geojson",
    "summary.json",
    "summary.csv",
    "summary.csvt",
];

/// The `lifecircle_run` member of a GeoJSON FeatureCollection (top level).
fn run_member(path: &Path) -> String {
    let v = read_json(path);
    v["lifecircle_run"]
        .as_str()
        .unwrap_or_else(|| panic!("{}: no lifecircle_run member", path.display()))
        .to_string()
}

/// The run id of every file of an analyze output set; insists that they agree.
fn run_of_set(out: &Path) -> String {
    let run = read_json(&out.join("summary.json"))["run"]
        .as_str()
        .expect("summary.json has a run")
        .to_string();
    for f in [
        "communities.geojson",
        "residences.geojson",
        "facilities.geojson",
    ] {
        assert_eq!(run_member(&out.join(f)), run, "{f}");
    }
    let csv = fs::read_to_string(out.join("summary.csv")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let column = header
        .iter()
        .position(|h| *h == "run")
        .expect("a run column");
    let mut rows = 0;
    for line in lines {
        let fields: Vec<&str> = line.split(',').collect();
        assert_eq!(fields.len(), header.len(), "{line}");
        assert_eq!(fields[column], run, "{line}");
        rows += 1;
    }
    assert!(rows > 0);
    let csvt = fs::read_to_string(out.join("summary.csvt")).unwrap();
    assert_eq!(csvt.trim().split(',').count(), header.len(), "{csvt}");
    run
}

/// Every file of the directory, by name, with its bytes.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            let bytes = if e.file_type().unwrap().is_file() {
                fs::read(e.path()).unwrap()
            } else {
                Vec::new()
            };
            (name, bytes)
        })
        .collect();
    v.sort();
    v
}

fn names(dir: &Path) -> Vec<String> {
    snapshot(dir).into_iter().map(|(n, _)| n).collect()
}

fn temporaries(dir: &Path) -> Vec<String> {
    names(dir)
        .into_iter()
        .filter(|n| n.starts_with(".lifecircle-") && n.ends_with(".tmp"))
        .collect()
}

fn small_city() -> (tempfile::TempDir, PathBuf) {
    let (dir, _) = synth_city(&CitySpec::for_residences(3_000));
    let out = dir.path().join("out");
    (dir, out)
}

/// A run killed while it writes (here by the file-size limit, as a full disk or kill -9 would
/// stop it) leaves the previous output set exactly as it was; the next run removes the
/// temporaries the killed one left, and its files all carry its own new run id.
#[test]
fn killed_run_leaves_the_previous_set_and_the_next_run_cleans_up() {
    let (dir, out) = small_city();
    let o = analyze_cmd(dir.path(), &out, &[]).output().unwrap();
    assert!(o.status.success(), "{}", text(&o).1);
    let first_run = run_of_set(&out);
    let mut want: Vec<String> = ANALYZE_FILES.iter().map(|s| s.to_string()).collect();
    // The list of the set's files, for the next run (see the last test).
    want.push(".lifecircle-files".to_string());
    want.sort();
    assert_eq!(
        names(&out),
        want,
        "only the outputs and their list, no lock or temporary left"
    );
    let before = snapshot(&out);

    // Another walk changes every file; the run is killed by SIGXFSZ when a file it writes
    // grows past 64 blocks.
    let cmd = analyze_cmd(dir.path(), &out, &["--max-walk", "300m"]);
    let args: Vec<&std::ffi::OsStr> = cmd.get_args().collect();
    let o = Command::new("sh")
        .current_dir(dir.path())
        .arg("-c")
        .arg("ulimit -c 0; ulimit -f 64; exec \"$@\"")
        .arg("sh")
        .arg(cmd.get_program())
        .args(args)
        .output()
        .unwrap();
    assert!(!o.status.success(), "the run was meant to be stopped");
    let left = temporaries(&out);
    assert!(
        !left.is_empty(),
        "the killed run left no temporary: was it killed while writing?"
    );
    let after: Vec<_> = snapshot(&out)
        .into_iter()
        .filter(|(n, _)| !left.contains(n) && n != ".lifecircle.lock")
        .collect();
    assert!(after == before, "the previous set changed");
    assert_eq!(run_of_set(&out), first_run);

    // The next run cleans up after the killed one.
    let o = analyze_cmd(dir.path(), &out, &["--max-walk", "300m"])
        .output()
        .unwrap();
    let (_, stderr) = text(&o);
    assert!(o.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("removed {} temporary file", left.len())),
        "{stderr}"
    );
    assert_eq!(names(&out), want);
    let second_run = run_of_set(&out);
    assert_ne!(second_run, first_run);
}

/// Holds the lock of an output directory as a running lifecircle would: an `flock` on the lock
/// file, which names the process.
#[cfg(target_os = "linux")]
fn hold_lock(dir: &Path) -> fs::File {
    use std::os::fd::AsRawFd;
    fs::create_dir_all(dir).unwrap();
    let lock = dir.join(".lifecircle.lock");
    fs::write(&lock, format!("pid {}\nrun test\n", std::process::id())).unwrap();
    let f = fs::File::open(&lock).unwrap();
    // SAFETY: a valid open file descriptor.
    let rc = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    assert_eq!(rc, 0);
    f
}

/// A run into a directory another run is writing into stops before it reads or writes
/// anything, naming the other run's process; `extract` alike.
#[cfg(target_os = "linux")]
#[test]
fn second_run_into_a_locked_directory_stops() {
    let (dir, out) = small_city();
    let o = analyze_cmd(dir.path(), &out, &[]).output().unwrap();
    assert!(o.status.success(), "{}", text(&o).1);
    let lock = hold_lock(&out);
    let before = snapshot(&out);
    let pid = format!("process {}", std::process::id());
    let o = analyze_cmd(dir.path(), &out, &[]).output().unwrap();
    assert_clean_failure(&o, &["another lifecircle run", &pid, ".lifecircle.lock"]);
    assert!(
        snapshot(&out) == before,
        "a refused run changed the directory"
    );

    let o = lifecircle()
        .arg("extract")
        .arg(data("raw/helsinki-centre.osm.pbf"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_clean_failure(&o, &["another lifecircle run", &pid]);
    assert!(snapshot(&out) == before);
    drop(lock);
    let o = analyze_cmd(dir.path(), &out, &[]).output().unwrap();
    assert!(o.status.success(), "{}", text(&o).1);
}

/// `extract` writes its four files as one set with one run id; when one of them cannot be put
/// in place, the files of the previous extract stay as they were.
#[test]
fn extract_outputs_are_one_set() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("city");
    let extract = || {
        lifecircle()
            .arg("extract")
            .arg(data("raw/helsinki-centre.osm.pbf"))
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap()
    };
    let o = extract();
    assert!(o.status.success(), "{}", text(&o).1);
    let files = [
        "facilities.geojson",
        "residences.geojson",
        "streets.geojson",
        "communities.geojson",
    ];
    let run = run_member(&out.join(files[0]));
    for f in files {
        assert_eq!(run_member(&out.join(f)), run, "{f}");
    }
    assert_eq!(names(&out).len(), 4, "{:?}", names(&out));

    // The last file's name is taken by a directory: the run fails naming it, and the three
    // files before it are the previous extract's.
    let communities = out.join("communities.geojson");
    fs::remove_file(&communities).unwrap();
    fs::create_dir(&communities).unwrap();
    fs::write(communities.join("keep"), "x").unwrap();
    let before = snapshot(&out);
    let o = extract();
    assert_clean_failure(&o, &["communities.geojson"]);
    assert!(
        snapshot(&out) == before,
        "a failed extract changed the previous files"
    );
    for f in &files[..3] {
        assert_eq!(run_member(&out.join(f)), run, "{f}");
    }
}

/// A run replaces the previous run's files whole: the files of an earlier run with other
/// options (a PNG map, service areas, a GeoPackage) that this run does not write are removed,
/// so that the directory never holds a mix of runs; files lifecircle did not write stay, and
/// an input is never removed, even when an earlier run wrote it there.
#[test]
fn files_of_an_earlier_run_that_this_run_does_not_write_are_removed() {
    let (dir, out) = small_city();
    let run = |extra: &[&str]| {
        let o = analyze_cmd(dir.path(), &out, extra).output().unwrap();
        assert!(o.status.success(), "{extra:?}: {}", text(&o).1);
    };
    run(&["--map-png"]);
    for f in ["map.png", "service_areas.geojson"] {
        assert!(out.join(f).is_file(), "{f}");
    }
    fs::write(out.join("notes.txt"), "the planner's own file").unwrap();
    run(&[]);
    let mut want: Vec<String> = ANALYZE_FILES.iter().map(|s| s.to_string()).collect();
    want.extend([".lifecircle-files".to_string(), "notes.txt".to_string()]);
    want.sort();
    assert_eq!(names(&out), want);
    run_of_set(&out);
    // A GeoPackage run, then a run that reads its residences from that GeoPackage in the
    // same directory: the GeoPackage is an input and stays.
    run(&["--format", "gpkg"]);
    assert!(out.join("lifecircle.gpkg").is_file());
    assert!(!out.join("residences.geojson").exists());
    let gpkg_residences = format!("{}:residences", out.join("lifecircle.gpkg").display());
    let o = lifecircle()
        .args(["analyze", "--quiet", "--out"])
        .arg(&out)
        .arg("--facilities")
        .arg(dir.path().join(lifecircle_synth::FACILITIES_FILE))
        .args(["--residences", &gpkg_residences])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o).1);
    assert!(out.join("lifecircle.gpkg").is_file());
    assert!(out.join("residences.geojson").is_file());
    assert!(out.join("notes.txt").is_file());
}
