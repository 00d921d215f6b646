/**
 * The metric events a cart records, built from its state. Each carries a business key per cart
 * and step, so the metrics store counts a retried or replayed record once.
 */
import type { MetricEvent } from '../contracts';
import { stepKey } from '../keys';
import type { OrderPlaced, TouchRecord } from '../messages';
import type { RecoveryPolicy, Segment } from '../policy';
import { attributedTouch } from './questions';
import type { CartState } from './state';

export function abandonedEvent(state: CartState, segment: Segment): MetricEvent {
  const snapshot = state.snapshot!;
  return {
    kind: 'abandoned',
    key: stepKey(state.shop, state.checkoutToken, 'abandoned:metric'),
    shop: state.shop,
    checkoutToken: state.checkoutToken,
    workflowId: state.workflowId,
    segment,
    cartValue: snapshot.totalPrice,
    currency: snapshot.currency,
    controlGroup: state.controlGroup!,
    at: state.abandonedAt!,
  };
}

export function touchSentEvent(state: CartState, record: TouchRecord): MetricEvent {
  return {
    kind: 'touch_sent',
    key: stepKey(state.shop, state.checkoutToken, `touch-${record.touch}:metric`),
    shop: state.shop,
    checkoutToken: state.checkoutToken,
    touch: record.touch,
    segment: state.segment!,
    discountPercent: record.discountPercent,
    at: record.sentAt,
  };
}

export function ticketCreatedEvent(state: CartState, ticketId: string, at: string): MetricEvent {
  return {
    kind: 'ticket_created',
    key: stepKey(state.shop, state.checkoutToken, 'ticket'),
    shop: state.shop,
    checkoutToken: state.checkoutToken,
    ticketId,
    at,
  };
}

export function convertedEvent(
  state: CartState,
  policy: RecoveryPolicy,
  conversion: OrderPlaced,
): MetricEvent {
  return {
    kind: 'converted',
    key: stepKey(state.shop, state.checkoutToken, 'converted:metric'),
    shop: state.shop,
    checkoutToken: state.checkoutToken,
    orderId: conversion.orderId,
    revenue: conversion.totalPrice,
    currency: conversion.currency,
    attributedTouch: attributedTouch(state, policy, conversion.at),
    segment: state.segment,
    controlGroup: state.controlGroup ?? false,
    at: conversion.at,
  };
}

export function outcomeEvent(state: CartState, at: string): MetricEvent {
  return {
    kind: 'outcome',
    key: stepKey(state.shop, state.checkoutToken, 'outcome:metric'),
    shop: state.shop,
    checkoutToken: state.checkoutToken,
    outcome: state.outcome!,
    at,
  };
}
