//! One SeaweedFS (`weed mini`) for a whole test run: loopback only, free ports, a fresh data
//! directory, one admin identity, one bucket. Dropping the guard stops it and removes its data.
//!
//! What SeaweedFS 4.48 does with this setup, checked by hand:
//! - anonymous requests are refused (403 AccessDenied) once `-s3.config` names an identity;
//! - its default CORS (`-s3.allowedOrigins=*`) answers any origin's preflight and exposes `ETag`;
//! - it checks browser POST policies: signature, expiry, `starts-with`, exact-match conditions,
//!   `content-length-range`, and refuses form fields the policy does not cover.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{self, Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::{display_command, step, Context, Error, Result};

pub const BUCKET: &str = "s3file-test";
pub const ACCESS_KEY: &str = "s3filetestaccesskey";
pub const SECRET_KEY: &str = "s3file-test-secret-key-0123456789abcdef";
pub const REGION: &str = "us-east-1";

const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);
/// SeaweedFS 4.48 stops about 1.3 s after SIGTERM, or 11 s once it has run for a minute or more
/// (its filer then takes 10 s more).
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(20);
/// weed's maintenance worker dials the admin server's gRPC port at admin HTTP port + 10000,
/// whatever `-admin.port.grpc` says, so the admin ports are chosen as such a pair.
const GRPC_PORT_OFFSET: u16 = 10000;

pub struct SeaweedFs {
    /// The S3 API, e.g. `http://127.0.0.1:41234`.
    pub endpoint: String,
    child: Child,
    /// The data directory, identities and sockets of this run; removed on drop.
    dir: PathBuf,
    log: PathBuf,
    /// Every port it listens on: weed names its gRPC sockets in /tmp after them.
    ports: Vec<u16>,
}

impl SeaweedFs {
    /// Starts `weed mini` under `parent` and waits until its S3 API serves the bucket.
    pub fn start(weed: &Path, parent: &Path) -> Result<SeaweedFs> {
        step("starting SeaweedFS");
        let started = Instant::now();
        remove_dirs_of_dead_runs(parent);
        let dir = parent.join(format!("seaweedfs-{}", process::id()));
        if dir.exists() {
            fs::remove_dir_all(&dir).with_context(|| format!("cannot remove {}", dir.display()))?;
        }
        let data = dir.join("data");
        fs::create_dir_all(&data).with_context(|| format!("cannot create {}", data.display()))?;
        let identities = dir.join("s3.json");
        fs::write(&identities, identities_json())
            .with_context(|| format!("cannot write {}", identities.display()))?;
        // Kept after the run, for reading; the next run removes it.
        let log = parent.join(format!("seaweedfs-{}.log", process::id()));
        let log_file = File::create(&log).with_context(|| format!("cannot create {}", log.display()))?;
        let log_file_too =
            log_file.try_clone().with_context(|| format!("cannot reopen {}", log.display()))?;

        let mut ports = Ports::pick()?;
        let mut command = Command::new(weed);
        command
            .arg("mini")
            .args(mini_args(&ports, &data, &identities, &dir))
            // weed mini would turn these into a second identity.
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .stdin(Stdio::null())
            .stdout(log_file)
            .stderr(log_file_too);
        // The ports must be free when weed binds them.
        ports.held.clear();
        let child = command.spawn().with_context(|| format!("cannot run `{}`", display_command(&command)))?;
        // From here on, dropping `seaweedfs` stops the process.
        let mut seaweedfs = SeaweedFs {
            endpoint: format!("http://127.0.0.1:{}", ports.s3),
            child,
            dir,
            log,
            ports: ports.all(),
        };
        seaweedfs.wait_until_ready(&ports).map_err(|error| {
            Error::new(format!(
                "SeaweedFS did not start: {error}\n`{}`\nlast lines of {}:\n{}",
                display_command(&command),
                seaweedfs.log.display(),
                seaweedfs.log_tail()
            ))
        })?;
        step(&format!(
            "SeaweedFS serves S3 at {} (bucket {BUCKET}), started in {:.1}s, log: {}",
            seaweedfs.endpoint,
            started.elapsed().as_secs_f64(),
            seaweedfs.log.display()
        ));
        Ok(seaweedfs)
    }

    /// Ready means the S3 API answers HTTP and the filer holds the bucket's directory, which
    /// `-bucket` creates once S3 runs.
    fn wait_until_ready(&mut self, ports: &Ports) -> Result<()> {
        let s3 = SocketAddr::from(([127, 0, 0, 1], ports.s3));
        let filer = SocketAddr::from(([127, 0, 0, 1], ports.filer));
        let bucket_dir = format!("/buckets/{BUCKET}/");
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().context("cannot check on weed")? {
                return Err(Error::new(format!("weed exited ({status})")));
            }
            let s3_answers = http_get_status(s3, "/").is_ok();
            if s3_answers && http_get_status(filer, &bucket_dir).ok() == Some(200) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(Error::new(format!(
                    "no answer within {}s (S3 API answering: {s3_answers}, bucket directory \
                     {bucket_dir} on the filer: missing)",
                    STARTUP_TIMEOUT.as_secs()
                )));
            }
            thread::sleep(Duration::from_millis(100));
        }
    }

    fn log_tail(&self) -> String {
        let log = fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// SIGTERM, then SIGKILL after [`SHUTDOWN_TIMEOUT`]; then the data directory goes.
    fn stop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let started = Instant::now();
            terminate(&self.child);
            while matches!(self.child.try_wait(), Ok(None)) && started.elapsed() < SHUTDOWN_TIMEOUT {
                thread::sleep(Duration::from_millis(50));
            }
            if let Ok(Some(_)) = self.child.try_wait() {
                step(&format!("SeaweedFS stopped {:.1}s after SIGTERM", started.elapsed().as_secs_f64()));
            } else {
                eprintln!(
                    "xtask: SeaweedFS did not stop within {}s of SIGTERM: killing it",
                    SHUTDOWN_TIMEOUT.as_secs()
                );
                let _ = self.child.kill();
                let _ = self.child.wait();
            }
        }
        if let Err(error) = fs::remove_dir_all(&self.dir) {
            eprintln!("xtask: cannot remove {}: {error}", self.dir.display());
        }
        remove_grpc_sockets(&self.ports);
    }
}

impl Drop for SeaweedFs {
    fn drop(&mut self) {
        self.stop();
    }
}

fn identities_json() -> String {
    format!(
        r#"{{"identities":[{{"name":"s3file-test","credentials":[{{"accessKey":"{ACCESS_KEY}","secretKey":"{SECRET_KEY}"}}],"actions":["Admin","Read","List","Tagging","Write"]}}]}}"#
    )
}

/// Every listening service gets an explicit loopback port; what the tests do not use is off.
fn mini_args(ports: &Ports, data: &Path, identities: &Path, dir: &Path) -> Vec<String> {
    let mut args = vec![
        format!("-dir={}", data.display()),
        "-ip=127.0.0.1".to_owned(),
        "-ip.bind=127.0.0.1".to_owned(),
        format!("-master.port={}", ports.master),
        format!("-master.port.grpc={}", ports.master_grpc),
        format!("-volume.port={}", ports.volume),
        format!("-volume.port.grpc={}", ports.volume_grpc),
        format!("-filer.port={}", ports.filer),
        format!("-filer.port.grpc={}", ports.filer_grpc),
        format!("-s3.port={}", ports.s3),
        format!("-s3.port.grpc={}", ports.s3_grpc),
        "-s3.port.iceberg=0".to_owned(),
        "-s3.port.lance=0".to_owned(),
        format!("-s3.config={}", identities.display()),
        format!("-bucket={BUCKET}"),
        // weed checks the WebDAV port even when WebDAV is off.
        "-webdav=false".to_owned(),
        format!("-webdav.port={}", ports.webdav),
        // The admin server and its maintenance worker always run; only the UI can go.
        "-admin.ui=false".to_owned(),
        format!("-admin.port={}", ports.admin),
        format!("-admin.port.grpc={}", ports.admin + GRPC_PORT_OFFSET),
        "-master.telemetry=false".to_owned(),
        "-volume.preStopSeconds=0".to_owned(),
    ];
    // Unix socket paths are limited to 107 bytes; past that, weed's default under /tmp will do.
    let s3_socket = dir.join("s3.sock");
    if s3_socket.as_os_str().len() < 100 {
        args.push(format!("-s3.localSocket={}", s3_socket.display()));
        args.push(format!("-filer.localSocket={}", dir.join("filer.sock").display()));
    }
    args
}

struct Ports {
    master: u16,
    master_grpc: u16,
    volume: u16,
    volume_grpc: u16,
    filer: u16,
    filer_grpc: u16,
    s3: u16,
    s3_grpc: u16,
    webdav: u16,
    /// Its gRPC port is `admin + GRPC_PORT_OFFSET`.
    admin: u16,
    /// Keeps every chosen port taken until weed is about to start, so none is chosen twice.
    held: Vec<TcpListener>,
}

impl Ports {
    fn all(&self) -> Vec<u16> {
        vec![
            self.master,
            self.master_grpc,
            self.volume,
            self.volume_grpc,
            self.filer,
            self.filer_grpc,
            self.s3,
            self.s3_grpc,
            self.webdav,
            self.admin,
            self.admin + GRPC_PORT_OFFSET,
        ]
    }

    fn pick() -> Result<Ports> {
        let mut held = Vec::new();
        let mut next = || -> Result<u16> {
            let listener = TcpListener::bind("127.0.0.1:0").context("cannot find a free port")?;
            let port = listener.local_addr().context("cannot find a free port")?.port();
            held.push(listener);
            Ok(port)
        };
        let [master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc, webdav] =
            [next()?, next()?, next()?, next()?, next()?, next()?, next()?, next()?, next()?];
        let admin = (0..100)
            .find_map(|_| {
                let listener = TcpListener::bind("127.0.0.1:0").ok()?;
                let port = listener.local_addr().ok()?.port();
                let grpc = TcpListener::bind(("127.0.0.1", port.checked_add(GRPC_PORT_OFFSET)?));
                held.push(listener);
                held.push(grpc.ok()?);
                Some(port)
            })
            .ok_or_else(|| {
                Error::new(format!(
                    "cannot find a free port P with P + {GRPC_PORT_OFFSET} free too, for weed's \
                     admin server"
                ))
            })?;
        Ok(Ports {
            master,
            master_grpc,
            volume,
            volume_grpc,
            filer,
            filer_grpc,
            s3,
            s3_grpc,
            webdav,
            admin,
            held,
        })
    }
}

/// The status code of a plain `GET`, for readiness checks.
fn http_get_status(address: SocketAddr, path: &str) -> std::io::Result<u16> {
    let timeout = Duration::from_secs(1);
    let mut stream = TcpStream::connect_timeout(&address, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nAccept: application/json\r\nConnection: close\r\n\r\n"
    )?;
    let mut head = [0; 12];
    stream.read_exact(&mut head)?;
    // "HTTP/1.1 200"
    std::str::from_utf8(&head[9..12])
        .ok()
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| std::io::Error::other("not an HTTP response"))
}

/// Removes the `/tmp/seaweedfs-<service>-grpc-<port>.sock` files weed leaves behind when a
/// component (often the admin server) does not shut down cleanly. The process has exited, so
/// none of them is in use.
fn remove_grpc_sockets(ports: &[u16]) {
    let Ok(entries) = fs::read_dir("/tmp") else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            continue;
        };
        let Some(rest) = name.strip_prefix("seaweedfs-") else {
            continue;
        };
        let Some((_, port)) = rest.strip_suffix(".sock").and_then(|rest| rest.rsplit_once('-')) else {
            continue;
        };
        if port.parse().is_ok_and(|port| ports.contains(&port)) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Removes the `seaweedfs-<pid>` directories and logs of runs that have ended, including runs
/// killed before they could clean up.
fn remove_dirs_of_dead_runs(parent: &Path) {
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(run) = name.to_str().and_then(|name| name.strip_prefix("seaweedfs-")) else {
            continue;
        };
        let pid = run.strip_suffix(".log").unwrap_or(run);
        if pid.parse::<u32>().is_err() || Path::new("/proc").join(pid).exists() {
            continue;
        }
        let path = entry.path();
        let _ = if path.is_dir() { fs::remove_dir_all(path) } else { fs::remove_file(path) };
    }
}

fn terminate(child: &Child) {
    extern "C" {
        fn kill(pid: i32, signal: i32) -> i32;
    }
    const SIGTERM: i32 = 15;
    let Ok(pid) = i32::try_from(child.id()) else {
        return;
    };
    // SAFETY: kill(2) only sends a signal; `pid` is our own child, not yet reaped (try_wait
    // returned None), so the pid cannot have been reused.
    unsafe {
        kill(pid, SIGTERM);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_are_valid_json_with_one_admin() {
        let json = identities_json();
        assert_eq!(
            json,
            r#"{"identities":[{"name":"s3file-test","credentials":[{"accessKey":"s3filetestaccesskey","secretKey":"s3file-test-secret-key-0123456789abcdef"}],"actions":["Admin","Read","List","Tagging","Write"]}]}"#
        );
    }

    #[test]
    fn ports_are_distinct_and_leave_room_for_the_admin_grpc_port() {
        let mut all = Ports::pick().unwrap().all();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), 11);
    }
}
