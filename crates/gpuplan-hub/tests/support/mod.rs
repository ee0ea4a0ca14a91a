//! A tiny in-process HTTP/1.1 server on 127.0.0.1 that plays the Hub (and a CDN), plus
//! builders for safetensors headers and fixture repositories.

#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A tensor for a generated header: name, safetensors dtype, shape.
pub type Tensor = (String, &'static str, Vec<u64>);
/// A shard file name and its tensors.
pub type Shard = (String, Vec<Tensor>);

/// How long a stalled route holds a connection open without answering.
const STALL: Duration = Duration::from_secs(4);

/// What a route answers.
#[derive(Clone)]
pub enum Behavior {
    /// Answer normally (honouring `Range` on a 200).
    Normal,
    /// Accept, read the request, never answer (until [`STALL`] passes).
    Stall,
    /// Announce `Content-Length: declared` but send only the body, then close.
    Truncate { declared: usize },
    /// Send the response one byte every `every` (head included), as a server that never quite
    /// stalls.
    Trickle { every: Duration },
}

/// A canned answer.
#[derive(Clone)]
pub struct Route {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub behavior: Behavior,
}

impl Route {
    pub fn ok(body: impl Into<Vec<u8>>) -> Self {
        Route {
            status: 200,
            headers: Vec::new(),
            body: body.into(),
            behavior: Behavior::Normal,
        }
    }

    pub fn status(status: u16) -> Self {
        Route {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            behavior: Behavior::Normal,
        }
    }

    pub fn redirect(status: u16, location: &str) -> Self {
        Route::status(status).header("Location", location)
    }

    pub fn stall() -> Self {
        Route {
            behavior: Behavior::Stall,
            ..Route::status(200)
        }
    }

    pub fn trickle(body: impl Into<Vec<u8>>, every: Duration) -> Self {
        Route {
            behavior: Behavior::Trickle { every },
            ..Route::ok(body)
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
}

/// A request the server received.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A running server; it lives until the test process ends.
#[derive(Clone)]
pub struct Server {
    pub addr: SocketAddr,
    routes: Arc<Mutex<HashMap<String, Route>>>,
    /// Answers given once each, in order, before `routes` is consulted.
    queued: Arc<Mutex<HashMap<String, VecDeque<Route>>>>,
    log: Arc<Mutex<Vec<Request>>>,
}

impl Server {
    pub fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let server = Server {
            addr: listener.local_addr().expect("local addr"),
            routes: Arc::default(),
            queued: Arc::default(),
            log: Arc::default(),
        };
        let shared = server.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let shared = shared.clone();
                std::thread::spawn(move || shared.handle(stream));
            }
        });
        server
    }

    /// `http://127.0.0.1:{port}`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://localhost:{port}`: another host name for the same server.
    pub fn localhost_url(&self) -> String {
        format!("http://localhost:{}", self.addr.port())
    }

    pub fn route(&self, path: &str, route: Route) {
        self.routes
            .lock()
            .expect("routes")
            .insert(path.to_string(), route);
    }

    /// Answers the next request for `path` with `route`, once (before its [`Server::route`]).
    pub fn route_once(&self, path: &str, route: Route) {
        self.queued
            .lock()
            .expect("queued")
            .entry(path.to_string())
            .or_default()
            .push_back(route);
    }

    pub fn requests(&self) -> Vec<Request> {
        self.log.lock().expect("log").clone()
    }

    fn handle(&self, stream: TcpStream) {
        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
        let mut reader = BufReader::new(match stream.try_clone() {
            Ok(s) => s,
            Err(_) => return,
        });
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_string();
        let target = parts.next().unwrap_or_default().to_string();
        let mut headers = Vec::new();
        for _ in 0..200 {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                break;
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                headers.push((name.trim().to_string(), value.trim().to_string()));
            }
        }
        let path = target.split('?').next().unwrap_or_default().to_string();
        let request = Request {
            method,
            path: path.clone(),
            headers,
        };
        self.log.lock().expect("log").push(request.clone());
        let once = self
            .queued
            .lock()
            .expect("queued")
            .get_mut(&path)
            .and_then(VecDeque::pop_front);
        let route = once.or_else(|| self.routes.lock().expect("routes").get(&path).cloned());
        let route =
            route.unwrap_or_else(|| Route::status(404).header("X-Error-Code", "EntryNotFound"));
        respond(stream, &request, route);
    }
}

fn respond(mut stream: TcpStream, request: &Request, route: Route) {
    let mut status = route.status;
    let mut headers = route.headers.clone();
    let mut body = route.body.clone();
    match route.behavior {
        Behavior::Stall => {
            std::thread::sleep(STALL);
            return;
        }
        Behavior::Truncate { declared } => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {declared}\r\nConnection: close\r\n{}\r\n",
                header_lines(&headers)
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
            let _ = stream.flush();
            return;
        }
        Behavior::Trickle { every } => {
            let whole = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n{}\r\n",
                body.len(),
                header_lines(&headers)
            );
            let mut bytes = whole.into_bytes();
            bytes.extend_from_slice(&body);
            for byte in bytes {
                if stream
                    .write_all(&[byte])
                    .and_then(|()| stream.flush())
                    .is_err()
                {
                    return;
                }
                std::thread::sleep(every);
            }
            return;
        }
        Behavior::Normal => {}
    }
    if status == 200 {
        if let Some((start, last)) = request.header("Range").and_then(parse_range) {
            let len = body.len() as u64;
            if start >= len {
                status = 416;
                headers.push(("Content-Range".into(), format!("bytes */{len}")));
                body = Vec::new();
            } else {
                let last = last.min(len - 1);
                status = 206;
                headers.push((
                    "Content-Range".into(),
                    format!("bytes {start}-{last}/{len}"),
                ));
                body = body[start as usize..=last as usize].to_vec();
            }
        }
    }
    let head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Length: {}\r\nConnection: close\r\n{}\r\n",
        reason(status),
        body.len(),
        header_lines(&headers)
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&body);
    let _ = stream.flush();
}

fn header_lines(headers: &[(String, String)]) -> String {
    headers
        .iter()
        .map(|(n, v)| format!("{n}: {v}\r\n"))
        .collect()
}

fn parse_range(value: &str) -> Option<(u64, u64)> {
    let (start, last) = value.strip_prefix("bytes=")?.split_once('-')?;
    Some((start.parse().ok()?, last.parse().ok()?))
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        206 => "Partial Content",
        302 => "Found",
        307 => "Temporary Redirect",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        416 => "Range Not Satisfiable",
        _ => "Status",
    }
}

/// A port with nothing listening on it.
pub fn dead_endpoint() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

/// Bits per element of the dtypes the tests use.
fn bits(dtype: &str) -> u64 {
    match dtype {
        "BOOL" | "U8" | "I8" | "F8_E4M3" | "F8_E5M2" => 8,
        "BF16" | "F16" => 16,
        "I32" | "F32" => 32,
        "I64" | "F64" => 64,
        other => panic!("test dtype {other}"),
    }
}

/// The start of a safetensors file: 8-byte length + JSON header (space-padded to 8 bytes), with
/// consistent data offsets. The data itself is not included.
pub fn safetensors_header(tensors: &[Tensor]) -> Vec<u8> {
    let mut offset = 0u64;
    let mut map = serde_json::Map::new();
    map.insert("__metadata__".into(), serde_json::json!({"format": "pt"}));
    for (name, dtype, shape) in tensors {
        let bytes = (shape.iter().product::<u64>() * bits(dtype)).div_ceil(8);
        map.insert(
            name.clone(),
            serde_json::json!({"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + bytes]}),
        );
        offset += bytes;
    }
    let mut json = serde_json::to_vec(&map).expect("json");
    let padding = (8 - json.len() % 8) % 8;
    json.resize(json.len() + padding, b' ');
    let mut file = (json.len() as u64).to_le_bytes().to_vec();
    file.extend_from_slice(&json);
    file
}

/// A stand-in for a content hash: hex of FNV-1a, long enough to look like an ETag.
pub fn fake_etag(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in bytes {
        h ^= *b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("{h:016x}{:016x}", h.rotate_left(17) ^ 0x5555)
}

/// Serves a repository at `commit` under each of `revisions` (and the commit itself).
/// `*.safetensors` files are served by `cdn` when given, through a cross-host 302 as the Hub does
/// for LFS files; other files directly with `X-Repo-Commit` and `ETag`.
pub fn serve_repo(
    hub: &Server,
    cdn: Option<&Server>,
    repo_id: &str,
    commit: &str,
    revisions: &[&str],
    files: &[(&str, Vec<u8>)],
) {
    for revision in revisions.iter().copied().chain([commit]) {
        for (name, body) in files {
            let path = format!("/{repo_id}/resolve/{revision}/{name}");
            let etag = fake_etag(body);
            match cdn {
                Some(cdn) if name.ends_with(".safetensors") => {
                    let cdn_path = format!("/cdn/{commit}/{name}");
                    cdn.route(
                        &cdn_path,
                        Route::ok(body.clone()).header("ETag", "\"cdn-etag-must-not-be-used\""),
                    );
                    hub.route(
                        &path,
                        Route::redirect(
                            302,
                            &format!("{}{cdn_path}?signature=abc", cdn.localhost_url()),
                        )
                        .header("X-Repo-Commit", commit)
                        .header("X-Linked-Etag", &format!("\"{etag}\""))
                        .header("ETag", "\"git-etag\""),
                    );
                }
                _ => hub.route(
                    &path,
                    Route::ok(body.clone())
                        .header("X-Repo-Commit", commit)
                        .header("ETag", &format!("\"{etag}\"")),
                ),
            }
        }
    }
}

/// Llama-3.1-8B's tensors (291, 8,030,261,248 parameters, BF16), split into 4 shards as on the Hub.
pub fn llama_8b_shards() -> Vec<Shard> {
    let layer = |i: usize| -> Vec<Tensor> {
        let p = format!("model.layers.{i}");
        vec![
            (
                format!("{p}.self_attn.q_proj.weight"),
                "BF16",
                vec![4096, 4096],
            ),
            (
                format!("{p}.self_attn.k_proj.weight"),
                "BF16",
                vec![1024, 4096],
            ),
            (
                format!("{p}.self_attn.v_proj.weight"),
                "BF16",
                vec![1024, 4096],
            ),
            (
                format!("{p}.self_attn.o_proj.weight"),
                "BF16",
                vec![4096, 4096],
            ),
            (
                format!("{p}.mlp.gate_proj.weight"),
                "BF16",
                vec![14336, 4096],
            ),
            (format!("{p}.mlp.up_proj.weight"), "BF16", vec![14336, 4096]),
            (
                format!("{p}.mlp.down_proj.weight"),
                "BF16",
                vec![4096, 14336],
            ),
            (format!("{p}.input_layernorm.weight"), "BF16", vec![4096]),
            (
                format!("{p}.post_attention_layernorm.weight"),
                "BF16",
                vec![4096],
            ),
        ]
    };
    let mut shards = Vec::new();
    for s in 0..4 {
        let mut tensors = Vec::new();
        if s == 0 {
            tensors.push((
                "model.embed_tokens.weight".to_string(),
                "BF16",
                vec![128256, 4096],
            ));
        }
        for i in s * 8..(s + 1) * 8 {
            tensors.extend(layer(i));
        }
        if s == 3 {
            tensors.push(("model.norm.weight".to_string(), "BF16", vec![4096]));
            tensors.push(("lm_head.weight".to_string(), "BF16", vec![128256, 4096]));
        }
        shards.push((format!("model-0000{}-of-00004.safetensors", s + 1), tensors));
    }
    shards
}

/// The index JSON for shards as built by [`llama_8b_shards`].
pub fn index_json(shards: &[Shard]) -> Vec<u8> {
    let mut weight_map = serde_json::Map::new();
    for (file, tensors) in shards {
        for (name, _, _) in tensors {
            weight_map.insert(name.clone(), serde_json::Value::String(file.clone()));
        }
    }
    serde_json::to_vec_pretty(&serde_json::json!({
        "metadata": {"total_size": 16060522496u64},
        "weight_map": weight_map,
    }))
    .expect("json")
}

pub const LLAMA_CONFIG: &str = include_str!("../fixtures/meta-llama__Llama-3.1-8B.config.json");
pub const QUANT_CONFIG: &str =
    include_str!("../fixtures/nvidia__Llama-3.1-70B-Instruct-FP8.hf_quant_config.json");
