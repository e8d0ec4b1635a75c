//! What a person can do to their own account, without HTTP: the ways they can sign in (and
//! which of them may go), linking an external identity to the signed-in account, the
//! applications they gave access to, and deleting the account. The pages are in
//! `login::account`.
pub mod consents;
pub mod deletion;
pub mod linking;
pub mod sign_in_methods;
