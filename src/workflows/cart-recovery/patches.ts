/**
 * The `patched()` ids of the cart workflow, one home for all of them (docs/workflow.md,
 * "Changing workflow logic without breaking open carts"). A patch id is never renamed or reused.
 */
/**
 * Patch id (docs/workflow.md, "Changing workflow logic safely"): a cart whose sequence ends
 * without an order after abandonment (capped, consent, stock, vendor refusal) keeps watching
 * for a late order until its attribution window closes, so that order counts as a conversion.
 * Carts that ended before this change finish as they did.
 */
export const WATCH_LATE_ORDER_PATCH = 'watch-late-order-after-early-end';
/**
 * Patch id: a touch reuses its own live code instead of revoking and re-asking for it (which
 * handed back a dead code), and revokes only codes from before the previous touch, whose email
 * was accepted. Histories recorded before this change replay with the old swap.
 */
export const CODE_LIFECYCLE_PATCH = 'code-live-until-next-email';
/**
 * Patch id: the send-time decision (docs/workflow.md, Send-time rules): a fired touch timer
 * means its time has come; an overdue sequence sends only the latest due touch; no two emails
 * closer than the minimum gap; no email in quiet hours at the moment of sending.
 */
export const SEND_TIME_PATCH = 'decide-at-send-time';
