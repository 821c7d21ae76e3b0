//! What the store knows of the people of a message, for the factors its record alone cannot
//! show: whether they are contacts the user knows, whether they have a usable key or
//! another end-to-end channel, whether they asked for encryption (Autocrypt mutual), and
//! whether the message this one answers was encrypted. The factors themselves are applied
//! in [`super::message`]; contacts are [`crate::contacts`], keys [`crate::keys`].

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, RandomState};
use std::time::SystemTime;

use crate::config::Config;
use crate::contacts::{self, Directory, User, identity};
use crate::fault::Fault;
use crate::record::{BindingState, Encryption, Message, message_id};
use crate::store::index::{MessageIndex, Reader};
use crate::store::{self, Store};

/// Protocols whose messages are end-to-end encrypted: knowing someone there is a channel
/// that needs no key exchange.
const E2E_PROTOCOLS: &[&str] = &["signal"];

/// The people of one message as the store knows them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Circle {
    /// Whether the user wrote the message.
    pub from_user: bool,
    /// Everyone in it but the user.
    pub people: Vec<Person>,
    /// Whether the message it answers was end-to-end encrypted, when the store has it.
    pub parent_encrypted: Option<bool>,
}

/// One participant other than the user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Person {
    /// `KIND:HANDLE`.
    pub identity: String,
    /// A contact the user made (link, import, rename), or one with a key they trust.
    pub known: bool,
    /// The fingerprint of a usable key bound to them (trusted on first use or verified).
    pub key: Option<String>,
    /// Their Autocrypt state and the user's both prefer encryption (`mutual`), with a
    /// current key: Autocrypt says to encrypt to them by default.
    pub mutual: bool,
    /// An end-to-end channel to them: `openpgp` (a usable key) or a protocol that
    /// encrypts (`signal`), on any identity of their contact.
    pub secure_channel: Option<String>,
}

/// The error returned when the store cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error(transparent)]
    Contacts(#[from] contacts::Error),
    #[error(transparent)]
    Keys(#[from] crate::keys::Error),
    #[error(transparent)]
    Index(#[from] store::index::Error),
}

impl Fault for Error {
    fn inner(&self) -> Option<&dyn Fault> {
        match self {
            Error::Store(e) => Some(e),
            Error::Contacts(e) => Some(e),
            Error::Keys(crate::keys::Error::Store(e)) => Some(e),
            Error::Keys(_) => None,
            Error::Index(e) => Some(e),
        }
    }
}

/// Builds circles from one store, remembering each person and each message's encryption
/// as it goes (a reply scored in the same run as what it answers finds it).
pub struct Circles<'a> {
    store: Store,
    user: User,
    own_mutual: bool,
    directory: Directory,
    index: Option<Reader<'a>>,
    people: HashMap<String, Person>,
    /// The messages of this run that were encrypted, by a hash of their id (8 bytes a
    /// message, not the id; only whether a parent was encrypted counts, and most were not);
    /// a parent from an earlier run is looked up in the index as it was when this one
    /// began (none for a first sync: nothing to look up, and no page of the index read).
    encrypted: HashSet<u64>,
    ids: RandomState,
    now: SystemTime,
}

impl<'a> Circles<'a> {
    /// Circles from `store` (a connection of their own: `sync` reads what earlier batches
    /// committed while the current one is being written), looking up earlier messages in
    /// `index` when there is one.
    pub fn new(
        store: Store,
        index: Option<&'a MessageIndex>,
        config: &Config,
    ) -> Result<Circles<'a>, Error> {
        Ok(Circles {
            user: User::from_config(config),
            own_mutual: config.identity.prefer_encrypt.as_deref() == Some("mutual"),
            directory: Directory::load(&store.db)?,
            store,
            index: index.map(MessageIndex::snapshot).transpose()?.flatten(),
            people: HashMap::new(),
            encrypted: HashSet::new(),
            ids: RandomState::new(),
            now: SystemTime::now(),
        })
    }

    /// The circle of a message, which is then remembered as a possible parent.
    pub fn of(&mut self, message: &Message) -> Result<Circle, Error> {
        let mut circle = Circle::default();
        for (at, address) in message.people().enumerate() {
            let Some(identity) = identity::of_address(&message.protocol, &address.address) else {
                continue;
            };
            if self.user.is_user(&identity) {
                circle.from_user |= at == 0 && message.from.is_some();
                continue;
            }
            if circle.people.iter().any(|p| p.identity == identity) {
                continue;
            }
            circle.people.push(self.person(&identity)?);
        }
        if let Some(parent) = message.in_reply_to.first() {
            circle.parent_encrypted = self.encrypted(message, parent)?;
        }
        if message.security.encryption != Encryption::None {
            let id = message_id(&message.protocol, &message.account, &message.native_id);
            self.encrypted.insert(self.ids.hash_one(&id));
        }
        Ok(circle)
    }

    fn person(&mut self, identity: &str) -> Result<Person, Error> {
        if let Some(person) = self.people.get(identity) {
            return Ok(person.clone());
        }
        let contact = self.directory.describe(identity);
        let mut person = Person {
            identity: identity.to_string(),
            known: contact.known,
            ..Person::default()
        };
        for other in &contact.identities {
            let kind = identity::kind(other);
            if E2E_PROTOCOLS.contains(&kind) && person.secure_channel.is_none() {
                person.secure_channel = Some(kind.to_string());
            }
            if kind != "email" {
                continue;
            }
            let Some(address) = crate::keys::tofu::binding_address(identity::handle(other)) else {
                continue;
            };
            let usable = crate::keys::best_binding(&self.store, &address, self.now)?
                .filter(|(binding, record)| record.usable && binding.state.is_trusted());
            if let Some((binding, _)) = usable {
                person.known |= binding.state == BindingState::Verified;
                person.key.get_or_insert(binding.fingerprint);
                person.secure_channel = Some("openpgp".into());
                if other == identity {
                    let peer = self.store.db.peer(&address)?;
                    person.mutual =
                        crate::keys::autocrypt::recommend(peer.as_ref(), self.own_mutual, false)
                            == crate::keys::autocrypt::Recommendation::Encrypt;
                }
            }
        }
        self.people.insert(identity.to_string(), person.clone());
        Ok(person)
    }

    /// Whether the message `native_id` (of the same account) was encrypted: from this run,
    /// else from the index; only an encrypted parent is told apart (`Some(true)`).
    fn encrypted(&self, message: &Message, native_id: &str) -> Result<Option<bool>, Error> {
        let id = message_id(&message.protocol, &message.account, native_id);
        if self.encrypted.contains(&self.ids.hash_one(&id)) {
            return Ok(Some(true));
        }
        let Some(reader) = &self.index else {
            return Ok(None);
        };
        Ok(reader.indexed_as_encrypted(&id)?.then_some(true))
    }
}
