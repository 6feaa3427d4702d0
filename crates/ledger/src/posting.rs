//! 复式记账 the money ledger's rules, in integer fen: accounts with balance flags and immutable, idempotent
//! transfers (after TigerBeetle's model). The store keeps the rows; this module decides whether a transfer
//! may be posted against the balances it is shown, so the same rules hold on SQLite, PostgreSQL and in
//! property tests.
//!
//! For escrow (预收费托管): a parent's payment credits the order's escrow account (debiting the bank-side
//! clearing account), a released lesson debits escrow and credits the institution, a refund debits escrow
//! and credits the refund destination. Escrow has `debits_must_not_exceed_credits`: it can never go negative.

use std::collections::BTreeMap;

/// Balance rules of an account.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AccountFlags {
    /// The account may never owe: debits posted ≤ credits posted (escrow, released funds).
    pub debits_must_not_exceed_credits: bool,
    /// The mirror rule, for accounts that may never hold more than was put in.
    pub credits_must_not_exceed_debits: bool,
}

/// An account's posted totals, in fen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Balance {
    pub debits_posted: u64,
    pub credits_posted: u64,
}

impl Balance {
    /// Credits minus debits (what a liability account such as escrow holds).
    pub fn credit_balance(&self) -> i128 {
        i128::from(self.credits_posted) - i128::from(self.debits_posted)
    }
}

/// A movement of `amount` fen from `debit` to `credit`. `id` is the idempotency key: posting the same
/// transfer twice changes nothing the second time; the same id with different fields is a conflict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transfer<A> {
    pub id: String,
    pub debit: A,
    pub credit: A,
    pub amount: u64,
    /// What kind of movement (payment, release, refund, …), for reports.
    pub code: u16,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TransferError {
    #[error("the amount must be at least one fen")]
    ZeroAmount,
    #[error("a transfer moves money between two different accounts")]
    SameAccount,
    #[error("no such account")]
    UnknownAccount,
    #[error("the debit account would owe more than it holds")]
    ExceedsCredits,
    #[error("the credit account would hold more than was put in")]
    ExceedsDebits,
    #[error("the totals would overflow")]
    Overflow,
    #[error("a different transfer already has this id")]
    IdConflict,
}

/// What posting did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Posted {
    Created,
    /// The same transfer was posted before: nothing changed.
    AlreadyExists,
}

/// The new balances of the two accounts if `transfer` is posted, or why it may not be.
pub fn apply<A>(
    transfer: &Transfer<A>,
    debit: (AccountFlags, Balance),
    credit: (AccountFlags, Balance),
) -> Result<(Balance, Balance), TransferError>
where
    A: PartialEq,
{
    if transfer.amount == 0 {
        return Err(TransferError::ZeroAmount);
    }
    if transfer.debit == transfer.credit {
        return Err(TransferError::SameAccount);
    }
    let (debit_flags, mut d) = debit;
    let (credit_flags, mut c) = credit;
    d.debits_posted = d
        .debits_posted
        .checked_add(transfer.amount)
        .ok_or(TransferError::Overflow)?;
    c.credits_posted = c
        .credits_posted
        .checked_add(transfer.amount)
        .ok_or(TransferError::Overflow)?;
    if debit_flags.debits_must_not_exceed_credits && d.debits_posted > d.credits_posted {
        return Err(TransferError::ExceedsCredits);
    }
    if credit_flags.credits_must_not_exceed_debits && c.credits_posted > c.debits_posted {
        return Err(TransferError::ExceedsDebits);
    }
    Ok((d, c))
}

/// An in-memory book: accounts and transfers, for reasoning and tests (the store keeps the real one).
#[derive(Clone, Debug, Default)]
pub struct Book<A: Ord + Clone> {
    accounts: BTreeMap<A, (AccountFlags, Balance)>,
    transfers: BTreeMap<String, Transfer<A>>,
}

impl<A: Ord + Clone + std::fmt::Debug> Book<A> {
    pub fn new() -> Self {
        Book {
            accounts: BTreeMap::new(),
            transfers: BTreeMap::new(),
        }
    }

    pub fn open(&mut self, id: A, flags: AccountFlags) {
        self.accounts
            .entry(id)
            .or_insert((flags, Balance::default()));
    }

    pub fn balance(&self, id: &A) -> Option<Balance> {
        self.accounts.get(id).map(|(_, b)| *b)
    }

    /// Posts `transfer` all or nothing.
    pub fn post(&mut self, transfer: Transfer<A>) -> Result<Posted, TransferError> {
        if let Some(existing) = self.transfers.get(&transfer.id) {
            return if *existing == transfer {
                Ok(Posted::AlreadyExists)
            } else {
                Err(TransferError::IdConflict)
            };
        }
        let debit = *self
            .accounts
            .get(&transfer.debit)
            .ok_or(TransferError::UnknownAccount)?;
        let credit = *self
            .accounts
            .get(&transfer.credit)
            .ok_or(TransferError::UnknownAccount)?;
        let (d, c) = apply(&transfer, debit, credit)?;
        self.accounts.insert(transfer.debit.clone(), (debit.0, d));
        self.accounts.insert(transfer.credit.clone(), (credit.0, c));
        self.transfers.insert(transfer.id.clone(), transfer);
        Ok(Posted::Created)
    }

    /// (Σ debits, Σ credits) over every account: always equal.
    pub fn totals(&self) -> (u128, u128) {
        self.accounts.values().fold((0, 0), |(d, c), (_, b)| {
            (
                d + u128::from(b.debits_posted),
                c + u128::from(b.credits_posted),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ESCROW: AccountFlags = AccountFlags {
        debits_must_not_exceed_credits: true,
        credits_must_not_exceed_debits: false,
    };
    const PAYMENT: u16 = 1;
    const RELEASE: u16 = 2;
    const REFUND: u16 = 3;

    #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
    enum Acct {
        /// Money the bank reports in the supervised account, not yet attributed (the contra side).
        BankClearing,
        Escrow(u8),
        Released,
        RefundDestination,
    }

    fn transfer(id: &str, debit: Acct, credit: Acct, amount: u64, code: u16) -> Transfer<Acct> {
        Transfer {
            id: id.to_owned(),
            debit,
            credit,
            amount,
            code,
        }
    }

    fn book(orders: u8) -> Book<Acct> {
        let mut b = Book::new();
        b.open(Acct::BankClearing, AccountFlags::default());
        b.open(Acct::Released, AccountFlags::default());
        b.open(Acct::RefundDestination, AccountFlags::default());
        for o in 0..orders {
            b.open(Acct::Escrow(o), ESCROW);
        }
        b
    }

    #[test]
    fn escrow_never_goes_negative_and_transfers_are_idempotent() {
        let mut b = book(1);
        let pay = transfer(
            "pay-1",
            Acct::BankClearing,
            Acct::Escrow(0),
            120_000,
            PAYMENT,
        );
        assert_eq!(b.post(pay.clone()), Ok(Posted::Created));
        assert_eq!(
            b.post(pay.clone()),
            Ok(Posted::AlreadyExists),
            "a duplicate changes nothing"
        );
        assert_eq!(
            b.balance(&Acct::Escrow(0)).unwrap().credit_balance(),
            120_000
        );
        let mut altered = pay;
        altered.amount = 1;
        assert_eq!(b.post(altered), Err(TransferError::IdConflict));
        let too_much = transfer("rel-1", Acct::Escrow(0), Acct::Released, 120_001, RELEASE);
        assert_eq!(b.post(too_much), Err(TransferError::ExceedsCredits));
        assert_eq!(
            b.balance(&Acct::Escrow(0)).unwrap().credit_balance(),
            120_000,
            "all or nothing"
        );
        let zero = transfer("z", Acct::Escrow(0), Acct::Released, 0, RELEASE);
        assert_eq!(b.post(zero), Err(TransferError::ZeroAmount));
        let same = transfer("s", Acct::Escrow(0), Acct::Escrow(0), 5, RELEASE);
        assert_eq!(b.post(same), Err(TransferError::SameAccount));
        let overflow = transfer("o", Acct::BankClearing, Acct::Escrow(0), u64::MAX, PAYMENT);
        assert_eq!(b.post(overflow), Err(TransferError::Overflow));
    }

    #[derive(Clone, Debug)]
    enum Op {
        Pay { order: u8, amount: u64 },
        Release { order: u8, amount: u64 },
        Refund { order: u8, amount: u64 },
        Replay(usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0u8..4, 1u64..600_000).prop_map(|(order, amount)| Op::Pay { order, amount }),
            (0u8..4, 1u64..200_000).prop_map(|(order, amount)| Op::Release { order, amount }),
            (0u8..4, 1u64..200_000).prop_map(|(order, amount)| Op::Refund { order, amount }),
            (0usize..64).prop_map(Op::Replay),
        ]
    }

    proptest! {
        /// Over random sequences of pay / release / refund (and replays): Σ debits = Σ credits, escrow
        /// never negative, and for every order released + refunded + escrow = paid.
        #[test]
        fn the_books_balance_for_every_order(ops in proptest::collection::vec(op(), 1..120)) {
            let mut b = book(4);
            let mut posted: Vec<Transfer<Acct>> = Vec::new();
            let mut paid = [0u64; 4];
            let mut out = [0u64; 4];
            for (n, op) in ops.into_iter().enumerate() {
                let t = match op {
                    Op::Pay { order, amount } => transfer(&format!("t{n}"), Acct::BankClearing, Acct::Escrow(order), amount, PAYMENT),
                    Op::Release { order, amount } => transfer(&format!("t{n}"), Acct::Escrow(order), Acct::Released, amount, RELEASE),
                    Op::Refund { order, amount } => transfer(&format!("t{n}"), Acct::Escrow(order), Acct::RefundDestination, amount, REFUND),
                    Op::Replay(i) => match posted.get(i) {
                        Some(t) => {
                            let before = b.totals();
                            prop_assert_eq!(b.post(t.clone()), Ok(Posted::AlreadyExists));
                            prop_assert_eq!(b.totals(), before);
                            continue;
                        }
                        None => continue,
                    },
                };
                if b.post(t.clone()) == Ok(Posted::Created) {
                    match (&t.debit, &t.credit) {
                        (Acct::BankClearing, Acct::Escrow(o)) => paid[*o as usize] += t.amount,
                        (Acct::Escrow(o), _) => out[*o as usize] += t.amount,
                        _ => {}
                    }
                    posted.push(t);
                }
                let (debits, credits) = b.totals();
                prop_assert_eq!(debits, credits);
                for o in 0..4u8 {
                    let escrow = b.balance(&Acct::Escrow(o)).unwrap().credit_balance();
                    prop_assert!(escrow >= 0);
                    prop_assert_eq!(i128::from(out[o as usize]) + escrow, i128::from(paid[o as usize]));
                }
            }
        }
    }
}
