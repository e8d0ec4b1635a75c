//! The physical ceiling: how many ID-token-sized JWTs this machine signs per second, all cores,
//! with Gatehouse's own signer (aws-lc, key parsed once).
use std::time::{Duration, Instant};

use gatehouse::keys::{generate_pem, SigningAlg, SigningKey};
use jsonwebtoken::{EncodingKey, Header};

/// Signatures per second, RS256 and ES256, with every core busy.
pub struct SigningRates {
    pub rs256: f64,
    pub es256: f64,
    pub threads: usize,
}

fn claims() -> serde_json::Value {
    serde_json::json!({
        "iss": "http://127.0.0.1:8080", "sub": "6x9BbFyyLsjBnYJrVwE6aw", "aud": "bench", "azp": "bench",
        "exp": 1_900_000_000, "iat": 1_800_000_000, "auth_time": 1_800_000_000, "nonce": "n-0123456789",
        "amr": ["pwd"], "sid": "qs9RT7uMPHRV1Ekv_z_qJI", "at_hash": "NktEvzVQWciBa4ThR_tYTA",
    })
}

/// Calls `sign` on `threads` threads for `for_` (and at most ten million times each); per second.
fn rate(sign: impl Fn() + Sync, threads: usize, for_: Duration) -> f64 {
    let start = Instant::now();
    let counts: Vec<u64> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut n = 0u64;
                    while start.elapsed() < for_ && n < 10_000_000 {
                        sign();
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or(0)).collect()
    });
    counts.iter().sum::<u64>() as f64 / start.elapsed().as_secs_f64()
}

fn key(alg: SigningAlg) -> (SigningKey, String) {
    let pem = generate_pem(alg).expect("generate key");
    (SigningKey::from_pem("k".into(), alg, &pem).expect("parse key"), pem)
}

/// Measures both algorithms with the signer and key sizes Gatehouse uses.
pub fn measure(for_: Duration) -> SigningRates {
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let c = claims();
    let (rs, _) = key(SigningAlg::RS256);
    let (es, _) = key(SigningAlg::ES256);
    SigningRates {
        rs256: rate(|| drop(rs.sign("JWT", &c).expect("sign")), threads, for_),
        es256: rate(|| drop(es.sign("JWT", &c).expect("sign")), threads, for_),
        threads,
    }
}

/// One thread: microseconds per signature, Gatehouse's signer and plain `jsonwebtoken::encode`
/// (which parses the key again for every signature), as printable lines.
pub fn single_thread_report(for_: Duration) -> String {
    let c = claims();
    let mut out = String::new();
    for alg in SigningAlg::ALL {
        let (ours, pem) = key(alg);
        let encoding = match alg {
            SigningAlg::RS256 => EncodingKey::from_rsa_pem(pem.as_bytes()),
            SigningAlg::ES256 => EncodingKey::from_ec_pem(pem.as_bytes()),
        }
        .expect("encoding key");
        let mut header = Header::new(match alg {
            SigningAlg::RS256 => jsonwebtoken::Algorithm::RS256,
            SigningAlg::ES256 => jsonwebtoken::Algorithm::ES256,
        });
        header.kid = Some("k".into());
        let per_sig = |r: f64| 1e6 / r;
        let gatehouse = rate(|| drop(ours.sign("JWT", &c).expect("sign")), 1, for_);
        let plain = rate(
            || drop(jsonwebtoken::encode(&header, &c, &encoding).expect("sign")),
            1,
            for_,
        );
        out.push_str(&format!(
            "{}: Gatehouse signer {:.0} µs/signature ({gatehouse:.0}/s); jsonwebtoken::encode {:.0} µs/signature ({plain:.0}/s)\n",
            alg.as_str(),
            per_sig(gatehouse),
            per_sig(plain),
        ));
    }
    out
}
