//! What one client can hold of `s3file-signer serve`: the real binary on a loopback port, driven
//! over raw TCP so a test can stop half-way through a request, as a hostile client would.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Signer {
    child: Child,
    addr: SocketAddr,
    store: PathBuf,
}

impl Drop for Signer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.store);
    }
}

/// The signer in dev mode with the limits in `env`, once `/healthz` answers.
fn start(env: &[(&str, &str)]) -> Signer {
    static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let store = std::env::temp_dir().join(format!("s3file-limits-{}-{n}", std::process::id()));
    // A port that was free a moment ago.
    let addr = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_s3file-signer"))
        .arg("serve")
        .env_clear()
        .env("S3FILE_DEV", "true")
        .env("S3FILE_LISTEN", addr.to_string())
        .env("S3FILE_DEV_STORE_DIR", &store)
        .env("S3FILE_SECRET_KEY", "0123456789abcdef0123456789abcdef0123456789")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("RUST_LOG", "error")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the signer runs");
    let mut signer = Signer { child, addr, store };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = signer.child.try_wait().unwrap() {
            panic!("the signer exited with {status}");
        }
        if let Ok(mut stream) = TcpStream::connect(addr) {
            stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            if healthz(&mut stream).is_ok_and(|answer| answer.starts_with("HTTP/1.1 200")) {
                return signer;
            }
        }
        assert!(Instant::now() < deadline, "the signer did not answer /healthz within 30 s");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Sends `GET /healthz` and reads the whole answer.
fn healthz(stream: &mut TcpStream) -> std::io::Result<String> {
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: signer\r\nConnection: close\r\n\r\n")?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    Ok(answer)
}

/// A connection that sends the start of a request head and nothing more.
fn stalled(signer: &Signer) -> TcpStream {
    let mut stream = TcpStream::connect(signer.addr).unwrap();
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: signer\r\n").unwrap();
    stream
}

/// Reads until the server closes the connection or `limit` passes; returns what came and when
/// the connection ended (`None`: still open at the limit).
fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (Vec<u8>, Option<Duration>) {
    let started = Instant::now();
    let mut received = Vec::new();
    let mut buffer = [0; 4096];
    loop {
        let left = limit.saturating_sub(started.elapsed());
        if left.is_zero() {
            return (received, None);
        }
        stream.set_read_timeout(Some(left)).unwrap();
        match stream.read(&mut buffer) {
            Ok(0) => return (received, Some(started.elapsed())),
            Ok(n) => received.extend_from_slice(&buffer[..n]),
            Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return (received, None)
            }
            Err(_) => return (received, Some(started.elapsed())),
        }
    }
}

#[test]
fn a_connection_that_stalls_in_its_request_head_is_closed() {
    let signer = start(&[("S3FILE_HEADER_TIMEOUT", "1")]);
    let mut stream = stalled(&signer);
    let (received, closed) = read_until_closed(&mut stream, Duration::from_secs(10));
    let closed = closed.expect("the connection was still open after 10 s");
    assert!(closed >= Duration::from_millis(900), "closed after {closed:?}, before the header timeout");
    assert!(closed < Duration::from_secs(5), "closed after {closed:?}");
    // Nothing was asked completely, so nothing is answered.
    assert!(received.is_empty(), "{}", String::from_utf8_lossy(&received));
    // An idle connection that sent nothing at all goes the same way.
    let mut idle = TcpStream::connect(signer.addr).unwrap();
    let (_, closed) = read_until_closed(&mut idle, Duration::from_secs(10));
    assert!(closed.is_some_and(|closed| closed < Duration::from_secs(5)), "{closed:?}");
}

#[test]
fn a_request_body_that_stops_arriving_is_cut_off() {
    let signer = start(&[("S3FILE_BODY_TIMEOUT", "1")]);
    let mut stream = TcpStream::connect(signer.addr).unwrap();
    stream
        .write_all(
            b"POST /s3file/sign HTTP/1.1\r\nHost: signer\r\nContent-Type: application/json\r\n\
              Content-Length: 1000\r\n\r\n{\"field\": \"file\"",
        )
        .unwrap();
    let (received, closed) = read_until_closed(&mut stream, Duration::from_secs(10));
    let closed = closed.expect("the connection was still open after 10 s");
    assert!(closed >= Duration::from_millis(900), "closed after {closed:?}, before the body timeout");
    let answer = String::from_utf8_lossy(&received);
    assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 4"), "{answer}");
}

#[test]
fn at_the_connection_cap_a_new_connection_waits_for_a_free_slot() {
    // A header timeout far beyond the test: only the test's own hang-up frees a slot.
    let signer = start(&[("S3FILE_MAX_CONNECTIONS", "2"), ("S3FILE_HEADER_TIMEOUT", "60")]);
    let first = stalled(&signer);
    let _second = stalled(&signer);
    // Both are accepted before the third arrives.
    std::thread::sleep(Duration::from_millis(300));
    let mut waiting = TcpStream::connect(signer.addr).expect("the kernel queues the connection");
    waiting.write_all(b"GET /healthz HTTP/1.1\r\nHost: signer\r\nConnection: close\r\n\r\n").unwrap();
    let (early, closed) = read_until_closed(&mut waiting, Duration::from_secs(1));
    assert!(
        early.is_empty() && closed.is_none(),
        "served beyond the cap: {:?} {closed:?}",
        String::from_utf8_lossy(&early)
    );
    drop(first);
    let (answer, closed) = read_until_closed(&mut waiting, Duration::from_secs(5));
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer:?}");
    assert!(closed.is_some(), "{answer}");
}
