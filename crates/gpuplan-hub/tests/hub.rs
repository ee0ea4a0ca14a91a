//! gpuplan-hub against a real HTTP server on 127.0.0.1 playing the Hub and its CDN.

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use gpuplan_hub::{
    fetch, from_cache, load_local, HubOptions, ModelSource, SafetensorsSummary, WeightsInfo,
};
use support::*;

const LLAMA: &str = "meta-llama/Llama-3.1-8B";
const COMMIT: &str = "d04e592bb4f6aa9cfee91e2e20afa771667e1d4b";
const COMMIT_V1: &str = "0123456789abcdef0123456789abcdef01234567";
const LLAMA_8B_PARAMS: u64 = 8_030_261_248;

fn options(endpoint: &str, cache: &Path) -> HubOptions {
    HubOptions {
        endpoint: endpoint.to_string(),
        token: None,
        cache_dir: cache.to_path_buf(),
        offline: false,
        revision: "main".to_string(),
        timeout: Duration::from_secs(5),
        deadline: Duration::from_secs(30),
        progress: false,
    }
}

fn repo_dir(cache: &Path, repo_id: &str) -> PathBuf {
    cache.join(format!("models--{}", repo_id.replace('/', "--")))
}

fn summary(weights: &WeightsInfo) -> &SafetensorsSummary {
    match weights {
        WeightsInfo::Safetensors(s) => s,
        other => panic!("expected safetensors, got {other:?}"),
    }
}

/// Serves Llama-3.1-8B (config, index, 4 header-only shards behind a CDN) at `COMMIT` as `main`.
fn serve_llama(hub: &Server, cdn: &Server) {
    let shards = llama_8b_shards();
    let mut files = vec![
        ("config.json", LLAMA_CONFIG.as_bytes().to_vec()),
        ("model.safetensors.index.json", index_json(&shards)),
    ];
    let headers: Vec<(String, Vec<u8>)> = shards
        .iter()
        .map(|(name, tensors)| (name.clone(), safetensors_header(tensors)))
        .collect();
    for (name, bytes) in &headers {
        files.push((name.as_str(), bytes.clone()));
    }
    serve_repo(hub, Some(cdn), LLAMA, COMMIT, &["main"], &files);
}

fn regular_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            let meta = std::fs::symlink_metadata(&path).expect("metadata");
            if meta.is_dir() {
                stack.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found
}

#[test]
fn sharded_checkpoint_gives_exact_counts_and_fills_a_huggingface_hub_cache() {
    let (hub, cdn) = (Server::start(), Server::start());
    serve_llama(&hub, &cdn);
    let cache = tempfile::tempdir().expect("tempdir");
    let mut opts = options(&hub.url(), cache.path());
    opts.token = Some("hf_secret".into());

    let model = fetch(LLAMA, &opts).expect("fetch");
    let s = summary(&model.weights);
    assert_eq!(s.total_params, LLAMA_8B_PARAMS);
    assert_eq!(s.total_bytes, 2 * LLAMA_8B_PARAMS);
    assert_eq!(s.params_by_dtype["BF16"], LLAMA_8B_PARAMS);
    assert_eq!(s.bytes_by_dtype["BF16"], 2 * LLAMA_8B_PARAMS);
    assert_eq!((s.num_tensors, s.num_shards), (291, 4));
    assert!(s.has_lm_head && !s.has_mtp && !s.has_vision);
    let embed = s
        .tensors
        .iter()
        .find(|t| t.name == "model.embed_tokens.weight")
        .expect("embed");
    assert_eq!(embed.shape, [128256, 4096]);
    assert_eq!(model.commit.as_deref(), Some(COMMIT));
    assert_eq!(model.config_json, LLAMA_CONFIG);
    assert_eq!(model.hf_quant_config_json, None);
    assert!(matches!(model.source, ModelSource::Hub { .. }));
    assert!(model.notes.is_empty(), "{:?}", model.notes);

    // The token goes to the Hub; the CDN gets Range but never the token.
    let hub_requests = hub.requests();
    assert!(!hub_requests.is_empty());
    for r in &hub_requests {
        assert_eq!(r.header("Authorization"), Some("Bearer hf_secret"), "{r:?}");
    }
    let cdn_requests = cdn.requests();
    assert_eq!(cdn_requests.len(), 8, "two range requests per shard");
    for r in &cdn_requests {
        assert_eq!(r.header("Authorization"), None, "{r:?}");
        assert!(r.header("Range").is_some(), "{r:?}");
    }
    assert!(cdn_requests
        .iter()
        .any(|r| r.header("Range") == Some("bytes=0-7")));
    // Weights are never downloaded: every shard request is a bounded range.
    assert!(hub_requests
        .iter()
        .filter(|r| r.path.ends_with(".safetensors"))
        .all(|r| r.header("Range").is_some()));

    // huggingface_hub's layout.
    let repo = repo_dir(cache.path(), LLAMA);
    assert_eq!(
        std::fs::read_to_string(repo.join("refs/main")).expect("ref"),
        COMMIT
    );
    let config_link = repo.join("snapshots").join(COMMIT).join("config.json");
    assert_eq!(
        std::fs::read_to_string(&config_link).expect("config"),
        LLAMA_CONFIG
    );
    let target = std::fs::read_link(&config_link).expect("symlink");
    assert_eq!(
        target,
        Path::new("../../blobs").join(fake_etag(LLAMA_CONFIG.as_bytes()))
    );
    assert!(repo
        .join("snapshots")
        .join(COMMIT)
        .join("model.safetensors.index.json")
        .is_file());
    assert!(repo
        .join(".no_exist")
        .join(COMMIT)
        .join("hf_quant_config.json")
        .exists());
    assert!(repo
        .join("gpuplan")
        .join(format!("{COMMIT}.weights.json"))
        .is_file());
    assert!(
        !repo
            .join("blobs")
            .join("cdn-etag-must-not-be-used")
            .exists(),
        "shards are not stored"
    );

    // Offline against a dead endpoint: the same exact counts, from the cache.
    let mut offline = options(&dead_endpoint(), cache.path());
    offline.offline = true;
    let cached = fetch(LLAMA, &offline).expect("offline fetch");
    assert_eq!(cached.weights, model.weights);
    assert_eq!(cached.config_json, LLAMA_CONFIG);
    assert!(matches!(cached.source, ModelSource::HubCache(_)));
    assert_eq!(cached.commit.as_deref(), Some(COMMIT));

    // Online, a complete cache is used without asking the Hub.
    let before = hub.requests().len();
    let again = fetch(LLAMA, &options(&hub.url(), cache.path())).expect("cached fetch");
    assert_eq!(again.weights, model.weights);
    assert_eq!(hub.requests().len(), before);
}

#[test]
fn single_file_safetensors_with_packed_dtypes_and_a_quant_config() {
    let hub = Server::start();
    let tensors = vec![
        (
            "model.layers.0.mlp.experts.gate_up_proj_blocks".to_string(),
            "U8",
            vec![32, 5760, 90, 16],
        ),
        (
            "model.layers.0.mlp.experts.gate_up_proj_scales".to_string(),
            "U8",
            vec![32, 5760, 90],
        ),
        (
            "model.layers.0.self_attn.q_proj.weight".to_string(),
            "F8_E4M3",
            vec![4096, 2880],
        ),
        (
            "model.layers.0.self_attn.q_proj.weight_scale".to_string(),
            "F32",
            vec![],
        ),
        (
            "model.layers.1.mlp.qweight".to_string(),
            "I32",
            vec![360, 2880],
        ),
        (
            "model.visual.patch_embed.proj.weight".to_string(),
            "BF16",
            vec![1152, 3, 2, 16, 16],
        ),
        (
            "model.mtp.layers.0.eh_proj.weight".to_string(),
            "F16",
            vec![2880, 5760],
        ),
        (
            "model.embed_tokens.weight".to_string(),
            "BF16",
            vec![201088, 2880],
        ),
    ];
    let file = safetensors_header(&tensors);
    let repo = "openai/gpt-oss-mini";
    serve_repo(
        &hub,
        None,
        repo,
        COMMIT,
        &["main"],
        &[
            ("config.json", LLAMA_CONFIG.as_bytes().to_vec()),
            ("hf_quant_config.json", QUANT_CONFIG.as_bytes().to_vec()),
            ("model.safetensors", file),
        ],
    );
    let cache = tempfile::tempdir().expect("tempdir");
    let model = fetch(repo, &options(&hub.url(), cache.path())).expect("fetch");
    let s = summary(&model.weights);
    let u8_params = 32 * 5760 * 90 * 16 + 32 * 5760 * 90;
    assert_eq!(s.params_by_dtype["U8"], u8_params);
    assert_eq!(s.bytes_by_dtype["U8"], u8_params);
    assert_eq!(s.bytes_by_dtype["F8_E4M3"], 4096 * 2880);
    assert_eq!(s.params_by_dtype["F32"], 1);
    assert_eq!(s.bytes_by_dtype["F32"], 4);
    assert_eq!(s.bytes_by_dtype["I32"], 360 * 2880 * 4);
    assert_eq!(
        s.bytes_by_dtype["BF16"],
        2 * (1152 * 3 * 2 * 16 * 16 + 201088 * 2880)
    );
    assert_eq!(s.bytes_by_dtype["F16"], 2 * 2880 * 5760);
    assert_eq!(
        s.total_bytes,
        s.bytes_by_dtype.values().sum::<u64>(),
        "totals add up"
    );
    assert_eq!((s.num_tensors, s.num_shards), (8, 1));
    assert!(s.has_vision && s.has_mtp && !s.has_lm_head);
    assert_eq!(model.hf_quant_config_json.as_deref(), Some(QUANT_CONFIG));
    // The 404 on the index was ignored; the single file was read with two ranges.
    let ranges: Vec<_> = hub
        .requests()
        .into_iter()
        .filter_map(|r| r.header("Range").map(str::to_string))
        .collect();
    assert_eq!(ranges.len(), 2);
    assert_eq!(ranges[0], "bytes=0-7");

    let mut offline = options(&dead_endpoint(), cache.path());
    offline.offline = true;
    let cached = fetch(repo, &offline).expect("offline");
    assert_eq!(cached.hf_quant_config_json.as_deref(), Some(QUANT_CONFIG));
    assert_eq!(cached.weights, model.weights);
}

#[test]
fn non_safetensors_checkpoint_falls_back_to_the_config() {
    let hub = Server::start();
    let repo = "old-org/bin-only";
    serve_repo(
        &hub,
        None,
        repo,
        COMMIT,
        &["main"],
        &[
            ("config.json", LLAMA_CONFIG.as_bytes().to_vec()),
            ("pytorch_model.bin", vec![0; 64]),
        ],
    );
    let cache = tempfile::tempdir().expect("tempdir");
    let model = fetch(repo, &options(&hub.url(), cache.path())).expect("fetch");
    match &model.weights {
        WeightsInfo::NotSafetensors { note } => assert!(note.contains("config.json"), "{note}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(model.config_json, LLAMA_CONFIG);
    assert!(hub
        .requests()
        .iter()
        .all(|r| !r.path.ends_with("pytorch_model.bin")));

    let mut offline = options(&dead_endpoint(), cache.path());
    offline.offline = true;
    assert_eq!(
        fetch(repo, &offline).expect("offline").weights,
        model.weights
    );
}

#[test]
fn gated_model_asks_for_hf_token() {
    let hub = Server::start();
    hub.route(
        "/meta-llama/Gated/resolve/main/config.json",
        Route::status(401).header("X-Error-Code", "GatedRepo"),
    );
    let cache = tempfile::tempdir().expect("tempdir");
    let err = fetch("meta-llama/Gated", &options(&hub.url(), cache.path())).expect_err("gated");
    assert!(err.is_gated(), "{err}");
    let message = err.to_string();
    assert!(
        message.contains("meta-llama/Gated") && message.contains("HF_TOKEN"),
        "{message}"
    );

    hub.route(
        "/meta-llama/Gated/resolve/main/config.json",
        Route::status(403),
    );
    let mut opts = options(&hub.url(), cache.path());
    opts.token = Some("hf_wrong".into());
    let err = fetch("meta-llama/Gated", &opts).expect_err("forbidden");
    assert!(
        err.is_gated() && err.to_string().contains("refused"),
        "{err}"
    );
}

#[test]
fn missing_model_or_revision_is_not_found() {
    let hub = Server::start();
    hub.route(
        "/org/missing/resolve/main/config.json",
        Route::status(404).header("X-Error-Code", "RepoNotFound"),
    );
    let cache = tempfile::tempdir().expect("tempdir");
    let err = fetch("org/missing", &options(&hub.url(), cache.path())).expect_err("404");
    assert!(err.is_not_found() && !err.is_gated(), "{err}");
    assert!(err.to_string().contains("org/missing@main"), "{err}");

    let opts = options(&hub.url(), cache.path()).with_revision("v9");
    let err = fetch("org/missing", &opts).expect_err("404");
    assert!(err.to_string().contains("org/missing@v9"), "{err}");
}

#[test]
fn stalled_hub_times_out_with_an_actionable_error() {
    let hub = Server::start();
    hub.route("/org/slow/resolve/main/config.json", Route::stall());
    let cache = tempfile::tempdir().expect("tempdir");
    let mut opts = options(&hub.url(), cache.path());
    opts.timeout = Duration::from_millis(400);
    let started = Instant::now();
    let err = fetch("org/slow", &opts).expect_err("timeout");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(err.is_unreachable(), "{err}");
    let message = err.to_string();
    assert!(
        message.contains(&format!("cannot reach the Hub at {}", hub.url()))
            && message.contains("--offline"),
        "{message}"
    );
}

#[test]
fn refused_connection_is_unreachable() {
    let cache = tempfile::tempdir().expect("tempdir");
    let endpoint = dead_endpoint();
    let err = fetch("org/model", &options(&endpoint, cache.path())).expect_err("refused");
    assert!(err.is_unreachable(), "{err}");
    assert!(err.to_string().contains(&endpoint), "{err}");
}

#[test]
fn offline_without_cache_fails_without_touching_the_network() {
    let hub = Server::start();
    let cache = tempfile::tempdir().expect("tempdir");
    let mut opts = options(&hub.url(), cache.path());
    opts.offline = true;
    let err = fetch(LLAMA, &opts).expect_err("offline");
    assert!(err.is_offline(), "{err}");
    assert!(err.to_string().contains("offline and not cached"), "{err}");
    assert!(hub.requests().is_empty());
    assert!(from_cache(LLAMA, &opts).expect("lookup").is_none());

    // HF_HUB_OFFLINE=1 means the same.
    let env_opts = HubOptions::from_env_map(&|name| match name {
        "HF_HUB_OFFLINE" => Some("1".into()),
        "HF_HUB_CACHE" => Some(cache.path().display().to_string()),
        "HF_ENDPOINT" => Some(hub.url()),
        _ => None,
    });
    assert!(fetch(LLAMA, &env_opts).expect_err("offline").is_offline());
    assert!(hub.requests().is_empty());
}

/// Lays out a cache the way huggingface_hub does: blobs, relative symlinks, refs.
fn hand_laid_cache(cache: &Path, repo_id: &str, commit: &str, files: &[(&str, &[u8])]) {
    let repo = repo_dir(cache, repo_id);
    std::fs::create_dir_all(repo.join("blobs")).expect("blobs");
    std::fs::create_dir_all(repo.join("refs")).expect("refs");
    std::fs::create_dir_all(repo.join("snapshots").join(commit)).expect("snapshot");
    std::fs::write(repo.join("refs/main"), commit).expect("ref");
    for (name, bytes) in files {
        let etag = fake_etag(bytes);
        std::fs::write(repo.join("blobs").join(&etag), bytes).expect("blob");
        #[cfg(unix)]
        std::os::unix::fs::symlink(
            Path::new("../../blobs").join(&etag),
            repo.join("snapshots").join(commit).join(name),
        )
        .expect("symlink");
        #[cfg(not(unix))]
        std::fs::write(repo.join("snapshots").join(commit).join(name), bytes).expect("copy");
    }
}

#[test]
fn a_cache_laid_out_by_huggingface_hub_is_found() {
    let cache = tempfile::tempdir().expect("tempdir");
    // huggingface_hub downloaded the real file: header plus data.
    let tensors = vec![
        ("lm_head.weight".to_string(), "BF16", vec![4, 2]),
        ("model.embed_tokens.weight".to_string(), "BF16", vec![4, 2]),
    ];
    let mut weights = safetensors_header(&tensors);
    weights.extend_from_slice(&[0u8; 32]);
    hand_laid_cache(
        cache.path(),
        "org/tiny",
        COMMIT,
        &[
            ("config.json", LLAMA_CONFIG.as_bytes()),
            ("model.safetensors", &weights),
        ],
    );
    let mut opts = options(&dead_endpoint(), cache.path());
    opts.offline = true;
    let model = from_cache("org/tiny", &opts)
        .expect("lookup")
        .expect("found");
    assert_eq!(model.commit.as_deref(), Some(COMMIT));
    assert_eq!(model.config_json, LLAMA_CONFIG);
    let s = summary(&model.weights);
    assert_eq!((s.total_params, s.total_bytes, s.num_shards), (16, 32, 1));
    assert!(s.has_lm_head);

    // By commit hash too, and online with a dead endpoint (a complete cache needs no network).
    let by_commit = options(&dead_endpoint(), cache.path()).with_revision(COMMIT);
    assert_eq!(
        fetch("org/tiny", &by_commit).expect("by commit").weights,
        model.weights
    );
    // An unknown revision is not cached.
    let v2 = opts.clone().with_revision("v2");
    assert!(from_cache("org/tiny", &v2).expect("lookup").is_none());
    assert!(fetch("org/tiny", &v2).expect_err("offline").is_offline());

    // Only the config downloaded: found, weights not checked, with a note.
    hand_laid_cache(
        cache.path(),
        "org/config-only",
        COMMIT,
        &[("config.json", LLAMA_CONFIG.as_bytes())],
    );
    let model = fetch("org/config-only", &opts).expect("offline");
    assert_eq!(model.weights, WeightsInfo::NotChecked);
    assert!(!model.notes.is_empty());
}

#[test]
fn interrupted_writes_never_become_cache_entries() {
    let cache = tempfile::tempdir().expect("tempdir");
    // What a killed run leaves: partial temp files in blobs, a ref, an empty snapshot folder.
    let repo = repo_dir(cache.path(), LLAMA);
    std::fs::create_dir_all(repo.join("blobs")).expect("blobs");
    std::fs::create_dir_all(repo.join("refs")).expect("refs");
    std::fs::create_dir_all(repo.join("snapshots").join(COMMIT)).expect("snapshot");
    std::fs::write(repo.join("refs/main"), COMMIT).expect("ref");
    let etag = fake_etag(LLAMA_CONFIG.as_bytes());
    std::fs::write(
        repo.join("blobs").join(format!("{etag}.incomplete")),
        &LLAMA_CONFIG.as_bytes()[..40],
    )
    .expect("partial");
    std::fs::write(repo.join("blobs/.gpuplan-x1y2.incomplete"), b"{\"hidden").expect("temp");
    let mut opts = options(&dead_endpoint(), cache.path());
    opts.offline = true;
    assert!(from_cache(LLAMA, &opts).expect("lookup").is_none());
    assert!(fetch(LLAMA, &opts).expect_err("not cached").is_offline());

    // Online, the leftovers are ignored and the real entry is written.
    let (hub, cdn) = (Server::start(), Server::start());
    serve_llama(&hub, &cdn);
    let model = fetch(LLAMA, &options(&hub.url(), cache.path())).expect("fetch");
    assert_eq!(summary(&model.weights).total_params, LLAMA_8B_PARAMS);
    assert_eq!(
        std::fs::read_to_string(repo.join("blobs").join(&etag)).expect("blob"),
        LLAMA_CONFIG
    );

    // A connection that breaks mid-download leaves no file at all.
    let cache = tempfile::tempdir().expect("tempdir");
    let hub = Server::start();
    let mut truncated = Route::ok(&LLAMA_CONFIG.as_bytes()[..100])
        .header("X-Repo-Commit", COMMIT)
        .header("ETag", "\"abc\"");
    truncated.behavior = Behavior::Truncate {
        declared: LLAMA_CONFIG.len(),
    };
    hub.route(&format!("/{LLAMA}/resolve/main/config.json"), truncated);
    let err = fetch(LLAMA, &options(&hub.url(), cache.path())).expect_err("truncated");
    assert!(err.is_unreachable(), "{err}");
    assert_eq!(regular_files(cache.path()), Vec::<PathBuf>::new());

    // A shard whose header is cut short: an error naming the shard, and no weights summary cached,
    // so the next run tries again instead of trusting a partial count.
    let cache = tempfile::tempdir().expect("tempdir");
    let (hub, cdn) = (Server::start(), Server::start());
    serve_llama(&hub, &cdn);
    let shard = "model-00002-of-00004.safetensors";
    let header = safetensors_header(&llama_8b_shards()[1].1);
    cdn.route(
        &format!("/cdn/{COMMIT}/{shard}"),
        Route::ok(&header[..header.len() / 2]),
    );
    let err = fetch(LLAMA, &options(&hub.url(), cache.path())).expect_err("short shard");
    assert!(
        err.is_malformed() && err.to_string().contains(shard),
        "{err}"
    );
    let repo = repo_dir(cache.path(), LLAMA);
    assert!(!repo
        .join("gpuplan")
        .join(format!("{COMMIT}.weights.json"))
        .exists());
    let mut offline = options(&dead_endpoint(), cache.path());
    offline.offline = true;
    assert_eq!(
        fetch(LLAMA, &offline).expect("config cached").weights,
        WeightsInfo::NotChecked
    );
    assert!(regular_files(cache.path())
        .iter()
        .all(|p| !p.to_string_lossy().contains("incomplete")));
}

#[test]
fn token_goes_as_bearer_to_the_same_host_across_a_relative_redirect() {
    let hub = Server::start();
    // A renamed repository: the Hub redirects with a relative Location on the same host.
    hub.route(
        "/old-org/model/resolve/main/config.json",
        Route::redirect(307, "/new-org/model/resolve/main/config.json"),
    );
    serve_repo(
        &hub,
        None,
        "new-org/model",
        COMMIT,
        &["main"],
        &[("config.json", LLAMA_CONFIG.as_bytes().to_vec())],
    );
    let cache = tempfile::tempdir().expect("tempdir");
    let cache_dir = cache.path().display().to_string();
    let opts = HubOptions::from_env_map(&|name| match name {
        "HF_ENDPOINT" => Some(hub.url()),
        "HF_TOKEN" => Some("hf_from_env".into()),
        "HF_HUB_CACHE" => Some(cache_dir.clone()),
        _ => None,
    });
    let model = fetch("old-org/model", &opts).expect("fetch");
    assert_eq!(model.config_json, LLAMA_CONFIG);
    let requests = hub.requests();
    assert!(requests.iter().any(|r| r.path.starts_with("/new-org/")));
    for r in &requests {
        assert_eq!(
            r.header("Authorization"),
            Some("Bearer hf_from_env"),
            "{r:?}"
        );
    }
    // Without a token, no Authorization header at all.
    let hub2 = Server::start();
    let cache2 = tempfile::tempdir().expect("tempdir");
    let _ = fetch("org/none", &options(&hub2.url(), cache2.path()));
    assert!(hub2
        .requests()
        .iter()
        .all(|r| r.header("Authorization").is_none()));
}

#[test]
fn redirect_loops_are_bounded() {
    let hub = Server::start();
    hub.route(
        "/org/loop/resolve/main/config.json",
        Route::redirect(302, "/org/loop/resolve/main/config.json"),
    );
    let cache = tempfile::tempdir().expect("tempdir");
    let err = fetch("org/loop", &options(&hub.url(), cache.path())).expect_err("loop");
    assert!(err.to_string().contains("too many redirects"), "{err}");
    assert!(hub.requests().len() <= 6);
}

#[test]
fn revision_selects_branch_tag_or_commit() {
    let hub = Server::start();
    let repo = "org/versions";
    let v1_config = LLAMA_CONFIG.replace("\"num_hidden_layers\": 32", "\"num_hidden_layers\": 16");
    assert_ne!(v1_config, LLAMA_CONFIG);
    serve_repo(
        &hub,
        None,
        repo,
        COMMIT,
        &["main"],
        &[("config.json", LLAMA_CONFIG.as_bytes().to_vec())],
    );
    serve_repo(
        &hub,
        None,
        repo,
        COMMIT_V1,
        &["v1"],
        &[("config.json", v1_config.as_bytes().to_vec())],
    );
    let cache = tempfile::tempdir().expect("tempdir");
    let v1 = fetch(repo, &options(&hub.url(), cache.path()).with_revision("v1")).expect("v1");
    assert_eq!(v1.config_json, v1_config);
    assert_eq!(v1.commit.as_deref(), Some(COMMIT_V1));
    assert_eq!(v1.revision.as_deref(), Some("v1"));
    let main = fetch(repo, &options(&hub.url(), cache.path())).expect("main");
    assert_eq!(main.config_json, LLAMA_CONFIG);
    assert_eq!(main.commit.as_deref(), Some(COMMIT));

    let refs = repo_dir(cache.path(), repo).join("refs");
    assert_eq!(
        std::fs::read_to_string(refs.join("v1")).expect("v1"),
        COMMIT_V1
    );
    assert_eq!(
        std::fs::read_to_string(refs.join("main")).expect("main"),
        COMMIT
    );

    // Offline, by tag and by commit hash.
    let mut offline = options(&dead_endpoint(), cache.path());
    offline.offline = true;
    let by_tag = fetch(repo, &offline.clone().with_revision("v1")).expect("tag");
    assert_eq!(by_tag.config_json, v1_config);
    let by_commit = fetch(repo, &offline.with_revision(COMMIT_V1)).expect("commit");
    assert_eq!(by_commit.config_json, v1_config);

    // Files after config.json are fetched at the resolved commit, not the moving branch.
    assert!(hub
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("model.safetensors.index.json"))
        .all(|r| r.path.contains(COMMIT) || r.path.contains(COMMIT_V1)));
}

#[test]
fn malformed_files_are_errors_naming_the_file() {
    let hub = Server::start();
    serve_repo(
        &hub,
        None,
        "org/bad-config",
        COMMIT,
        &["main"],
        &[("config.json", b"{\"hidden_size\": ".to_vec())],
    );
    let cache = tempfile::tempdir().expect("tempdir");
    let err = fetch("org/bad-config", &options(&hub.url(), cache.path())).expect_err("bad");
    assert!(
        err.is_malformed() && err.to_string().contains("config.json"),
        "{err}"
    );

    let mut huge = u64::MAX.to_le_bytes().to_vec();
    huge.extend_from_slice(b"{}");
    serve_repo(
        &hub,
        None,
        "org/bad-header",
        COMMIT,
        &["main"],
        &[
            ("config.json", LLAMA_CONFIG.as_bytes().to_vec()),
            ("model.safetensors", huge),
        ],
    );
    let err = fetch("org/bad-header", &options(&hub.url(), cache.path())).expect_err("bad");
    assert!(
        err.is_malformed() && err.to_string().contains("model.safetensors"),
        "{err}"
    );

    serve_repo(
        &hub,
        None,
        "org/bad-index",
        COMMIT,
        &["main"],
        &[
            ("config.json", LLAMA_CONFIG.as_bytes().to_vec()),
            ("model.safetensors.index.json", b"[]".to_vec()),
        ],
    );
    let err = fetch("org/bad-index", &options(&hub.url(), cache.path())).expect_err("bad");
    assert!(
        err.is_malformed() && err.to_string().contains("model.safetensors.index.json"),
        "{err}"
    );

    let err = fetch("not a repo", &options(&hub.url(), cache.path())).expect_err("id");
    assert!(err.to_string().contains("org/name"), "{err}");
}

#[test]
fn local_directories_and_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let shards = llama_8b_shards();
    std::fs::write(dir.path().join("config.json"), LLAMA_CONFIG).expect("config");
    std::fs::write(dir.path().join("hf_quant_config.json"), QUANT_CONFIG).expect("quant");
    std::fs::write(
        dir.path().join("model.safetensors.index.json"),
        index_json(&shards),
    )
    .expect("index");
    for (name, tensors) in &shards {
        std::fs::write(dir.path().join(name), safetensors_header(tensors)).expect("shard");
    }
    let model = load_local(dir.path()).expect("local dir");
    let s = summary(&model.weights);
    assert_eq!((s.total_params, s.num_shards), (LLAMA_8B_PARAMS, 4));
    assert_eq!(model.hf_quant_config_json.as_deref(), Some(QUANT_CONFIG));
    assert_eq!(
        model.source,
        ModelSource::LocalPath(dir.path().join("config.json"))
    );
    // Pointing at the config file itself reads the same folder.
    let same = load_local(&dir.path().join("config.json")).expect("local file");
    assert_eq!(same.weights, model.weights);

    // A shard missing: weights not checked, with a note.
    std::fs::remove_file(dir.path().join(&shards[2].0)).expect("rm");
    let partial = load_local(dir.path()).expect("partial");
    assert_eq!(partial.weights, WeightsInfo::NotChecked);
    assert!(!partial.notes.is_empty());

    // Only a .bin checkpoint.
    let bin = tempfile::tempdir().expect("tempdir");
    std::fs::write(bin.path().join("config.json"), LLAMA_CONFIG).expect("config");
    std::fs::write(bin.path().join("pytorch_model.bin"), b"x").expect("bin");
    assert!(matches!(
        load_local(bin.path()).expect("bin").weights,
        WeightsInfo::NotSafetensors { .. }
    ));

    // A bare config.
    let bare = tempfile::tempdir().expect("tempdir");
    let config = bare.path().join("my-config.json");
    std::fs::write(&config, LLAMA_CONFIG).expect("config");
    assert_eq!(
        load_local(&config).expect("bare").weights,
        WeightsInfo::NotChecked
    );

    // No config at all; a malformed local shard header.
    let empty = tempfile::tempdir().expect("tempdir");
    let err = load_local(empty.path()).expect_err("no config");
    assert!(err.to_string().contains("no config.json"), "{err}");
    std::fs::write(empty.path().join("config.json"), LLAMA_CONFIG).expect("config");
    std::fs::write(
        empty.path().join("model.safetensors"),
        b"\x10\0\0\0\0\0\0\0{",
    )
    .expect("st");
    let err = load_local(empty.path()).expect_err("bad header");
    assert!(
        err.is_malformed() && err.to_string().contains("model.safetensors"),
        "{err}"
    );
}

#[test]
fn trickling_hub_is_abandoned_at_the_deadline() {
    let hub = Server::start();
    // One byte every 300 ms: every read succeeds well within the per-read timeout.
    hub.route(
        "/org/trickle/resolve/main/config.json",
        Route::trickle(vec![b' '; 10_000], Duration::from_millis(300)),
    );
    let cache = tempfile::tempdir().expect("tempdir");
    let mut opts = options(&hub.url(), cache.path());
    opts.timeout = Duration::from_secs(5);
    opts.deadline = Duration::from_secs(2);
    let err = fetch("org/trickle", &opts).expect_err("deadline");
    assert!(err.is_unreachable(), "{err}");
    let message = err.to_string();
    assert!(
        message.contains("GPUPLAN_HUB_DEADLINE") && message.contains("config.json"),
        "{message}"
    );
}

#[test]
fn busy_hub_is_retried_after_retry_after() {
    let hub = Server::start();
    serve_repo(
        &hub,
        None,
        "org/busy",
        COMMIT,
        &["main"],
        &[("config.json", LLAMA_CONFIG.as_bytes().to_vec())],
    );
    hub.route_once(
        "/org/busy/resolve/main/config.json",
        Route::status(503).header("Retry-After", "1"),
    );
    let cache = tempfile::tempdir().expect("tempdir");
    let opts = options(&hub.url(), cache.path());
    let fetched = fetch("org/busy", &opts).expect("the retry succeeds");
    assert!(fetched.config_json.contains("hidden_size"));
    let tries = hub
        .requests()
        .iter()
        .filter(|r| r.path == "/org/busy/resolve/main/config.json")
        .count();
    assert_eq!(tries, 2);
}

#[test]
fn retries_are_bounded() {
    let hub = Server::start();
    hub.route(
        "/org/down/resolve/main/config.json",
        Route::status(502).header("Retry-After", "0"),
    );
    let cache = tempfile::tempdir().expect("tempdir");
    let opts = options(&hub.url(), cache.path());
    let err = fetch("org/down", &opts).expect_err("still down");
    assert!(err.to_string().contains("HTTP 502"), "{err}");
    let tries = hub
        .requests()
        .iter()
        .filter(|r| r.path == "/org/down/resolve/main/config.json")
        .count();
    assert_eq!(tries, 1 + gpuplan_hub::MAX_RETRIES as usize);
}
