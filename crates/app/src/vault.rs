//! 个人信息保护 the personal-data vault: encryption at rest (SM4-GCM by default, through the `Crypto`
//! trait) with key ids so keys can rotate, and a keyed blind index (HMAC-SM3) for exact lookup, e.g.
//! "which parent has this phone number" without storing the number.
//!
//! Keys live in `<data dir>/keys.toml` (created with mode 0600 on first start) or in the environment
//! (`XIAOWAI_KEYS`, the same TOML), never in the database: a stolen database alone reveals nothing.

use crate::AppError;
use data_encoding::BASE64URL_NOPAD;
use domain::Action;
use ledger::{Crypto, NONCE_LEN};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

pub const KEYS_ENV: &str = "XIAOWAI_KEYS";
const KEYS_FILE: &str = "keys.toml";
/// Sealed values look like `v1.<key id>.<base64url(nonce ‖ ciphertext ‖ tag)>`.
const SEALED_PREFIX: &str = "v1";

/// The on-disk (or environment) form of the key ring.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    /// The suite the keys are for (`sm` or `intl`); a ring never mixes suites.
    suite: String,
    /// The key id new values are sealed with.
    current: u32,
    /// Data-encryption keys by id, hex.
    keys: BTreeMap<String, String>,
    /// The blind-index key, hex.
    index_key: String,
    /// The secret of the platform's signing key (compliance plates), hex. Rings written before plates
    /// existed lack it; one is added at the next start.
    #[serde(default)]
    signing_key: Option<String>,
}

/// Data keys and the blind-index key, with the suite that uses them.
#[derive(Clone)]
pub struct KeyRing {
    crypto: Arc<dyn Crypto>,
    current: u32,
    keys: BTreeMap<u32, Vec<u8>>,
    index_key: Vec<u8>,
    signing_key: Vec<u8>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the keys.
        f.debug_struct("KeyRing")
            .field("suite", &self.crypto.suite_name())
            .field("current", &self.current)
            .finish_non_exhaustive()
    }
}

fn random_bytes(n: usize) -> Vec<u8> {
    let mut v = vec![0u8; n];
    rand::rng().fill_bytes(&mut v);
    v
}

/// A fresh signing secret: 32 random bytes that form a valid key for the suite.
fn new_signing_key(crypto: &dyn Crypto) -> Vec<u8> {
    loop {
        let candidate = random_bytes(32);
        if crypto.public_key(&candidate).is_ok() {
            return candidate;
        }
    }
}

fn config_error(detail: impl Into<String>) -> AppError {
    AppError::internal(detail)
}

impl KeyRing {
    /// A fresh ring with one data key, held only in memory (tests).
    pub fn generate(crypto: Arc<dyn Crypto>) -> KeyRing {
        let mut keys = BTreeMap::new();
        keys.insert(1, random_bytes(crypto.data_key_len()));
        KeyRing {
            current: 1,
            keys,
            index_key: random_bytes(32),
            signing_key: new_signing_key(&*crypto),
            crypto,
        }
    }

    /// From `XIAOWAI_KEYS` if set, else `<data_dir>/keys.toml`, created on first start.
    pub fn load_or_create(data_dir: &Path, crypto: Arc<dyn Crypto>) -> Result<KeyRing, AppError> {
        if let Ok(text) = std::env::var(KEYS_ENV)
            && !text.trim().is_empty()
        {
            let (ring, complete) = Self::from_toml(&text, crypto)?;
            if !complete {
                return Err(config_error(format!(
                    "{KEYS_ENV} has no signing_key: add one (xiaowai writes it to keys.toml when it keeps its keys there)"
                )));
            }
            return Ok(ring);
        }
        let path = data_dir.join(KEYS_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let (ring, complete) = Self::from_toml(&text, crypto)?;
                if !complete {
                    ring.save(&path)?;
                }
                Ok(ring)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let ring = Self::generate(crypto);
                ring.save(&path)?;
                Ok(ring)
            }
            Err(e) => Err(config_error(format!("reading {}: {e}", path.display()))),
        }
    }

    /// The ring, and whether the text already held everything (a signing key is added when missing).
    fn from_toml(text: &str, crypto: Arc<dyn Crypto>) -> Result<(KeyRing, bool), AppError> {
        let file: KeyFile =
            toml::from_str(text).map_err(|e| config_error(format!("key ring: {e}")))?;
        if file.suite != crypto.suite_name() {
            return Err(config_error(format!(
                "key ring is for suite {}, the platform runs {}",
                file.suite,
                crypto.suite_name()
            )));
        }
        let mut keys = BTreeMap::new();
        for (id, hex_key) in &file.keys {
            let id: u32 = id
                .parse()
                .map_err(|_| config_error(format!("key ring: bad key id {id:?}")))?;
            let key = hex::decode(hex_key)
                .map_err(|_| config_error(format!("key ring: key {id} is not hex")))?;
            if key.len() != crypto.data_key_len() {
                return Err(config_error(format!(
                    "key ring: key {id} has {} bytes, {} expected",
                    key.len(),
                    crypto.data_key_len()
                )));
            }
            keys.insert(id, key);
        }
        if !keys.contains_key(&file.current) {
            return Err(config_error(format!(
                "key ring: current key {} is missing",
                file.current
            )));
        }
        let index_key = hex::decode(&file.index_key)
            .map_err(|_| config_error("key ring: index key is not hex"))?;
        let complete = file.signing_key.is_some();
        let signing_key = match &file.signing_key {
            Some(hex_key) => {
                let key = hex::decode(hex_key)
                    .map_err(|_| config_error("key ring: signing key is not hex"))?;
                crypto
                    .public_key(&key)
                    .map_err(|_| config_error("key ring: signing key is not a valid key"))?;
                key
            }
            None => new_signing_key(&*crypto),
        };
        let ring = KeyRing {
            crypto,
            current: file.current,
            keys,
            index_key,
            signing_key,
        };
        Ok((ring, complete))
    }

    fn to_toml(&self) -> String {
        let file = KeyFile {
            suite: self.crypto.suite_name().to_owned(),
            current: self.current,
            keys: self
                .keys
                .iter()
                .map(|(id, k)| (id.to_string(), hex::encode(k)))
                .collect(),
            index_key: hex::encode(&self.index_key),
            signing_key: Some(hex::encode(&self.signing_key)),
        };
        toml::to_string(&file).expect("the key file serializes")
    }

    /// Writes the ring to `path`, readable by its owner only.
    pub fn save(&self, path: &Path) -> Result<(), AppError> {
        let tmp = path.with_extension("toml.tmp");
        std::fs::write(&tmp, self.to_toml())
            .map_err(|e| config_error(format!("writing {}: {e}", tmp.display())))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| config_error(format!("protecting {}: {e}", tmp.display())))?;
        }
        std::fs::rename(&tmp, path)
            .map_err(|e| config_error(format!("writing {}: {e}", path.display())))
    }

    /// Adds a new data key and makes it current. Existing values stay readable with their old key
    /// until they are re-sealed.
    pub fn rotate(&mut self) -> u32 {
        let next = self.keys.keys().max().copied().unwrap_or(0) + 1;
        self.keys
            .insert(next, random_bytes(self.crypto.data_key_len()));
        self.current = next;
        next
    }

    /// Signs `msg` with the platform's signing key (SM2 or Ed25519).
    pub fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, AppError> {
        self.crypto
            .sign(&self.signing_key, msg)
            .map_err(|e| AppError::internal(format!("signing: {e}")))
    }

    /// The public half of the signing key, for anyone verifying plates offline.
    pub fn signing_public_key(&self) -> Vec<u8> {
        self.crypto
            .public_key(&self.signing_key)
            .expect("the signing key was checked when loaded")
    }

    pub fn crypto(&self) -> &dyn Crypto {
        &*self.crypto
    }

    pub fn current_key_id(&self) -> u32 {
        self.current
    }

    /// Encrypts `plaintext` for the column `field` (the field name is bound in as associated data, so a
    /// value copied into another column does not open).
    pub fn seal(&self, field: &str, plaintext: &str) -> String {
        let key = &self.keys[&self.current];
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = self
            .crypto
            .seal(key, nonce, plaintext.as_bytes(), field.as_bytes())
            .expect("key length checked at load");
        format!(
            "{SEALED_PREFIX}.{}.{}",
            self.current,
            BASE64URL_NOPAD.encode(&sealed)
        )
    }

    /// Decrypts a value sealed for `field`.
    pub fn open(&self, field: &str, sealed: &str) -> Result<String, AppError> {
        let corrupt = || AppError::internal(format!("sealed {field} value does not open"));
        let mut parts = sealed.splitn(3, '.');
        let (Some(SEALED_PREFIX), Some(id), Some(body)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Err(corrupt());
        };
        let key = id
            .parse::<u32>()
            .ok()
            .and_then(|id| self.keys.get(&id))
            .ok_or_else(corrupt)?;
        let bytes = BASE64URL_NOPAD
            .decode(body.as_bytes())
            .map_err(|_| corrupt())?;
        let plain = self
            .crypto
            .open(key, &bytes, field.as_bytes())
            .map_err(|_| corrupt())?;
        String::from_utf8(plain).map_err(|_| corrupt())
    }

    /// Whether a value has the sealed form at all (older versions stored some columns in the clear).
    pub fn looks_sealed(&self, value: &str) -> bool {
        let mut parts = value.splitn(3, '.');
        parts.next() == Some(SEALED_PREFIX)
            && parts.next().is_some_and(|id| id.parse::<u32>().is_ok())
            && parts.next().is_some_and(|body| !body.is_empty())
    }

    /// Whether a sealed value uses a key older than the current one (and so needs re-sealing after a
    /// rotation).
    pub fn is_stale(&self, sealed: &str) -> bool {
        sealed
            .split('.')
            .nth(1)
            .and_then(|id| id.parse::<u32>().ok())
            != Some(self.current)
    }

    /// The keyed blind index of a normalized value in `field`: equal values give equal indexes, and
    /// without the key nothing can be learnt or guessed from it.
    pub fn blind_index(&self, field: &str, normalized: &str) -> String {
        hex::encode(self.crypto.mac(
            &self.index_key,
            &[field.as_bytes(), &[0], normalized.as_bytes()],
        ))
    }
}

/// Associated-data names: each sealed value opens only in the column it was sealed for.
pub mod field {
    pub const PHONE: &str = "account.phone";
    pub const TOTP_SECRET: &str = "account.totp_secret";
    pub const CHILD_NAME: &str = "child.name";
    pub const CHILD_ID_CARD: &str = "child.id_card";
    pub const API_SECRET: &str = "api_client.secret";
    pub const PRACTITIONER_NAME: &str = "practitioner.name";
    pub const PRACTITIONER_ID_CARD: &str = "practitioner.id_card";
    pub const STAFF_NAME: &str = "staff.name";
    pub const STAFF_ID_CARD: &str = "staff.id_card";
    pub const INTEGRATOR_CONTACT: &str = "integrator.contact";
}

/// The associated-data name each sealed column is sealed under.
pub fn field_of(c: store::SealedColumn) -> &'static str {
    match (c.table, c.column) {
        ("accounts", "phone_sealed") => field::PHONE,
        ("accounts", "totp_secret_sealed") => field::TOTP_SECRET,
        ("children", "name_sealed") => field::CHILD_NAME,
        ("children", "id_card_sealed") => field::CHILD_ID_CARD,
        ("api_clients", "secret_sealed") => field::API_SECRET,
        ("practitioner_blacklist", "name_sealed") => field::PRACTITIONER_NAME,
        ("staff_members", "name_sealed") => field::STAFF_NAME,
        ("staff_members", "id_card_sealed") => field::STAFF_ID_CARD,
        ("integrators", "contact_sealed") => field::INTEGRATOR_CONTACT,
        _ => unreachable!("every sealed column has a field name (checked by a test)"),
    }
}

impl crate::App {
    /// Re-seals every value sealed under an older key with the current one, in one transaction with
    /// its audit entry. Run after [`KeyRing::rotate`] (and after the new ring is saved).
    pub async fn reseal_all(&self, actor: &crate::Actor) -> Result<u64, AppError> {
        let now = self.clock.now().millis();
        let mut tx = self.store.begin_write().await?;
        let mut resealed = 0u64;
        for column in store::SEALED_COLUMNS {
            let field = field_of(*column);
            for (key, sealed) in tx.clients().sealed_values(*column).await? {
                if self.keys.is_stale(&sealed) {
                    let plain = self.keys.open(field, &sealed)?;
                    tx.clients()
                        .update_sealed(*column, &key, &self.keys.seal(field, &plain))
                        .await?;
                    resealed += 1;
                }
            }
        }
        let entry = crate::evidence::record(
            &actor.audit_name(),
            now,
            Action::KeysResealed,
            "vault".to_owned(),
            serde_json::json!({"key_id": self.keys.current_key_id(), "values": resealed}),
        );
        tx.append_audit(vec![entry]).await?;
        tx.commit().await?;
        Ok(resealed)
    }

    /// Seals what an older version stored in the clear in a column sealed since (integrators' contacts,
    /// before migration 0049), in one transaction with its audit entry; nothing to do costs one read of that
    /// small table. Run when the application opens.
    pub(crate) async fn seal_values_left_in_clear(&self) -> Result<(), AppError> {
        const SEALED_LATER: &[store::SealedColumn] = &[store::SealedColumn {
            table: "integrators",
            key: "id",
            column: "contact_sealed",
        }];
        let now = self.clock.now().millis();
        let mut tx = self.store.begin_write().await?;
        let mut sealed = 0u64;
        for column in SEALED_LATER {
            let field = field_of(*column);
            for (key, value) in tx.clients().sealed_values(*column).await? {
                if !self.keys.looks_sealed(&value) {
                    tx.clients()
                        .update_sealed(*column, &key, &self.keys.seal(field, &value))
                        .await?;
                    sealed += 1;
                }
            }
        }
        if sealed == 0 {
            return Ok(());
        }
        let entry = crate::evidence::record(
            "system:vault",
            now,
            Action::ClearValuesSealed,
            "vault".to_owned(),
            serde_json::json!({"key_id": self.keys.current_key_id(), "values": sealed}),
        );
        tx.append_audit(vec![entry]).await?;
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ledger::{InternationalSuite, SmSuite};

    fn ring() -> KeyRing {
        KeyRing::generate(Arc::new(SmSuite))
    }

    #[test]
    fn every_sealed_column_has_a_field_name() {
        for c in store::SEALED_COLUMNS {
            assert!(!field_of(*c).is_empty());
        }
    }

    #[test]
    fn sealed_values_open_only_for_their_field_and_hide_the_plaintext() {
        let r = ring();
        let sealed = r.seal("parent.phone", "13800000001");
        assert!(!sealed.contains("13800000001"));
        assert!(sealed.starts_with("v1.1."));
        assert_eq!(r.open("parent.phone", &sealed).unwrap(), "13800000001");
        assert!(
            r.open("child.name", &sealed).is_err(),
            "bound to its column"
        );
        assert_ne!(
            r.seal("parent.phone", "13800000001"),
            sealed,
            "a fresh nonce every time"
        );
        assert!(r.open("parent.phone", "v1.1.garbage").is_err());
        assert!(r.open("parent.phone", "13800000001").is_err());
    }

    #[test]
    fn rotation_keeps_old_values_readable_and_marks_them_stale() {
        let mut r = ring();
        let old = r.seal("child.name", "王小明");
        assert_eq!(r.rotate(), 2);
        let new = r.seal("child.name", "王小明");
        assert!(new.starts_with("v1.2."));
        assert_eq!(r.open("child.name", &old).unwrap(), "王小明");
        assert!(r.is_stale(&old) && !r.is_stale(&new));
    }

    #[test]
    fn blind_indexes_match_equal_values_only_under_the_same_key() {
        let r = ring();
        assert_eq!(
            r.blind_index("parent.phone", "13800000001"),
            r.blind_index("parent.phone", "13800000001")
        );
        assert_ne!(
            r.blind_index("parent.phone", "13800000001"),
            r.blind_index("parent.phone", "13800000002")
        );
        assert_ne!(
            r.blind_index("parent.phone", "13800000001"),
            r.blind_index("child.id_card", "13800000001")
        );
        assert_ne!(
            r.blind_index("parent.phone", "13800000001"),
            ring().blind_index("parent.phone", "13800000001")
        );
    }

    #[test]
    fn the_key_file_round_trips_is_private_and_refuses_another_suite() {
        let dir = tempfile::tempdir().unwrap();
        let first = KeyRing::load_or_create(dir.path(), Arc::new(SmSuite)).unwrap();
        let sealed = first.seal("parent.phone", "13800000001");
        let again = KeyRing::load_or_create(dir.path(), Arc::new(SmSuite)).unwrap();
        assert_eq!(again.open("parent.phone", &sealed).unwrap(), "13800000001");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(KEYS_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(KeyRing::load_or_create(dir.path(), Arc::new(InternationalSuite)).is_err());
        assert!(
            !format!("{again:?}").contains(&hex::encode(&again.index_key)),
            "Debug never prints keys"
        );
    }
}
