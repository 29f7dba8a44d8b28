//! Peer-support chat (coe) [003], PRODUCT.md §1.6, DOMAIN.md §6.
//!
//! [003] 「利用者に個別のトークルームを開設する仕組み」: every parent (mother or
//! partner: 「利用者の7割が女性、3割が男性」) gets a private room, known by a
//! display name only (「本名を登録することを求めず…ディスプレイネームだけ」), and a
//! team of three supporters answers it (「応援団三人組の構成は、医療従事者や職業として
//! 保育や教育の経験が長い人、2−3歳の子供を子育て中の人、まだ出産、育児経験はないが応援
//! したい人」). Supporters open only their rooms (「応援団もアクセスできるトークルームを
//! 限定し」) and escalate worrying signs to professionals (「必要に応じて専門家へ
//! エスカレーション」「虐待や産後うつが発生する予兆を応援団が察知し」).
//!
//! - [`supporters`]: a supporter's attributes, stated capacity and vetting state;
//! - [`teams`]: the team-of-three rule and the operator's fair team suggestion;
//! - [`messages`]: what a message, a client id and a display name may be;
//! - [`worrying`]: words of self-harm in a parent's message, as data;
//! - [`helplines`]: the help lines shown to a parent at once when they appear;
//! - [`invitations`]: the one-time code a nurse hands out, and what a supporter sees of an escalation.
//! - [`line`]: the LINE webhook's signature, events and replay window, and the actor it acts as.

pub mod helplines;
pub mod invitations;
pub mod line;
pub mod messages;
pub mod supporters;
pub mod teams;
pub mod worrying;
