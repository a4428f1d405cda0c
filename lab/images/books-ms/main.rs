// books-ms stand-in for the bgrun lab: a tiny HTTP/1.1 server on port 8080.
//
//   GET /api/v1/books -> 200 [{"_id": 1, "title": "The DevOps 2.0 Toolkit", "version": "<VERSION>"}]
//   GET /health       -> 200 {"status": "ok", "version": "<VERSION>"}
//   GET /version      -> 200 <VERSION>
// With MODE=broken the two first answer 500. Environment: VERSION, MODE,
// PORT (default 8080), SERVICE_NAME (echoed in the X-Service-Name header).
// Built as a static binary (std only) and imported into an image by lab/up.
use std::env;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

extern "C" {
    fn signal(signum: i32, handler: extern "C" fn(i32)) -> usize;
    fn _exit(code: i32) -> !;
}

extern "C" fn on_term(_sig: i32) {
    // PID 1 in a container ignores SIGTERM unless it installs a handler:
    // exit at once so `docker stop` takes milliseconds, not 10 s.
    unsafe { _exit(0) }
}

struct Conf {
    version: String,
    broken: bool,
    service: String,
    host: String,
}

fn main() {
    unsafe {
        signal(15, on_term); // SIGTERM
        signal(2, on_term); // SIGINT
    }
    let port = env::var("PORT").unwrap_or_else(|_| "8080".into());
    let conf = Conf {
        version: env::var("VERSION").unwrap_or_else(|_| "0".into()),
        broken: env::var("MODE").map(|m| m == "broken").unwrap_or(false),
        service: env::var("SERVICE_NAME").unwrap_or_else(|_| "books-ms".into()),
        host: std::fs::read_to_string("/etc/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_default(),
    };
    let conf: &'static Conf = Box::leak(Box::new(conf));
    let listener = TcpListener::bind(format!("0.0.0.0:{port}")).expect("bind");
    eprintln!(
        "books-ms {} listening on :{port}{}",
        conf.version,
        if conf.broken { " (broken)" } else { "" }
    );
    for stream in listener.incoming() {
        if let Ok(s) = stream {
            thread::spawn(move || {
                let _ = serve(s, conf);
            });
        }
    }
}

fn serve(stream: TcpStream, conf: &Conf) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(75)))?;
    let _ = stream.set_nodelay(true);
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut out = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let line = line.trim_end().to_string();
        if line.is_empty() {
            continue;
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or("").to_string();
        let target = parts.next().unwrap_or("/").to_string();
        let proto = parts.next().unwrap_or("HTTP/1.0").to_string();
        let mut keep_alive = proto == "HTTP/1.1";
        let mut body_len: u64 = 0;
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h)? == 0 {
                return Ok(());
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                let k = k.trim().to_ascii_lowercase();
                let v = v.trim().to_ascii_lowercase();
                if k == "connection" {
                    if v.contains("close") {
                        keep_alive = false;
                    } else if v.contains("keep-alive") {
                        keep_alive = true;
                    }
                } else if k == "content-length" {
                    body_len = v.parse().unwrap_or(0);
                }
            }
        }
        if body_len > 0 {
            std::io::copy(&mut (&mut reader).take(body_len), &mut std::io::sink())?;
        }
        let path = target.split('?').next().unwrap_or("/");
        let (status, body, ctype) = route(&method, path, conf);
        let reason = match status {
            200 => "OK",
            404 => "Not Found",
            405 => "Method Not Allowed",
            _ => "Internal Server Error",
        };
        let head = format!(
            "HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n\
             X-Version: {}\r\nX-Service-Name: {}\r\nX-Served-By: {}\r\nConnection: {}\r\n\r\n",
            body.len(),
            conf.version,
            conf.service,
            conf.host,
            if keep_alive { "keep-alive" } else { "close" }
        );
        let mut resp = head.into_bytes();
        if method != "HEAD" {
            resp.extend_from_slice(body.as_bytes());
        }
        out.write_all(&resp)?;
        out.flush()?;
        if !keep_alive {
            return Ok(());
        }
    }
}

fn route(method: &str, path: &str, conf: &Conf) -> (u16, String, &'static str) {
    let json = "application/json";
    let path = if path.len() > 1 { path.trim_end_matches('/') } else { path };
    if method != "GET" && method != "HEAD" {
        return (405, "{\"error\": \"method not allowed\"}\n".into(), json);
    }
    match path {
        "/api/v1/books" | "/health" if conf.broken => (
            500,
            format!("{{\"error\": \"books-ms {} is broken\"}}\n", conf.version),
            json,
        ),
        "/api/v1/books" => (
            200,
            format!(
                "[{{\"_id\": 1, \"title\": \"The DevOps 2.0 Toolkit\", \"version\": \"{}\"}}]\n",
                conf.version
            ),
            json,
        ),
        "/health" => (
            200,
            format!("{{\"status\": \"ok\", \"version\": \"{}\"}}\n", conf.version),
            json,
        ),
        "/version" => (200, format!("{}\n", conf.version), "text/plain"),
        _ => (404, "{\"error\": \"not found\"}\n".into(), json),
    }
}
