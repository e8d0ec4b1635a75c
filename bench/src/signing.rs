//! The physical ceiling: how many ID-token-sized JWTs this machine signs per second, all cores.
use std::time::{Duration, Instant};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs8::{EncodePrivateKey, LineEnding};

/// Signatures per second, RS256 and ES256, with every core busy.
pub struct SigningRates {
    pub rs256: f64,
    pub es256: f64,
    pub threads: usize,
}

fn rate(key: &EncodingKey, alg: Algorithm, threads: usize, for_: Duration) -> f64 {
    let claims = serde_json::json!({
        "iss": "http://127.0.0.1:8080", "sub": "6x9BbFyyLsjBnYJrVwE6aw", "aud": "bench", "azp": "bench",
        "exp": 1_900_000_000, "iat": 1_800_000_000, "auth_time": 1_800_000_000, "nonce": "n-0123456789",
        "amr": ["pwd"], "sid": "qs9RT7uMPHRV1Ekv_z_qJI", "at_hash": "NktEvzVQWciBa4ThR_tYTA",
    });
    let start = Instant::now();
    let counts: Vec<u64> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut n = 0u64;
                    let mut h = Header::new(alg);
                    h.kid = Some("k".into());
                    // Bounded by time and by count.
                    while start.elapsed() < for_ && n < 10_000_000 {
                        let _ = jsonwebtoken::encode(&h, &claims, key).expect("sign");
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

/// Measures both algorithms with the same library and key sizes Gatehouse uses.
pub fn measure(for_: Duration) -> SigningRates {
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let rsa_pem = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048)
        .unwrap()
        .to_pkcs8_pem(LineEnding::LF)
        .unwrap();
    let ec_pem = p256::SecretKey::random(&mut rand::rngs::OsRng)
        .to_pkcs8_pem(LineEnding::LF)
        .unwrap();
    let rs = EncodingKey::from_rsa_pem(rsa_pem.as_bytes()).unwrap();
    let es = EncodingKey::from_ec_pem(ec_pem.as_bytes()).unwrap();
    SigningRates {
        rs256: rate(&rs, Algorithm::RS256, threads, for_),
        es256: rate(&es, Algorithm::ES256, threads, for_),
        threads,
    }
}
