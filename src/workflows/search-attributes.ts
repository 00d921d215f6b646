/**
 * Custom search attributes that make carts filterable in the Temporal Web UI
 * ("premium carts waiting for touch 3"). No personal data (email, name) is ever put here.
 * `npm start` registers them on the dev server; production clusters register them once
 * with `temporal operator search-attribute create` (see README).
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const CartShop = defineSearchAttributeKey('CartShop', SearchAttributeType.KEYWORD);
export const CartValue = defineSearchAttributeKey('CartValue', SearchAttributeType.DOUBLE);
export const CartCurrency = defineSearchAttributeKey('CartCurrency', SearchAttributeType.KEYWORD);
export const CartSegment = defineSearchAttributeKey('CartSegment', SearchAttributeType.KEYWORD);
export const CartStage = defineSearchAttributeKey('CartStage', SearchAttributeType.KEYWORD);
export const CartOutcome = defineSearchAttributeKey('CartOutcome', SearchAttributeType.KEYWORD);
export const CartNextTouch = defineSearchAttributeKey('CartNextTouch', SearchAttributeType.INT);

export const ALL_SEARCH_ATTRIBUTES = [
  CartShop,
  CartValue,
  CartCurrency,
  CartSegment,
  CartStage,
  CartOutcome,
  CartNextTouch,
];
