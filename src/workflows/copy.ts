/**
 * Subject lines and preheaders per segment and touch. Plain data so that a merchant can read
 * and change them in one place; the Klaviyo template renders the body from the event.
 */
import type { Segment } from './policy';

interface Copy {
  subject: string;
  preheader: string;
}

const COPY: Record<Segment, Copy[]> = {
  welcome: [
    {
      subject: 'You left something in your cart',
      preheader: 'Your items are saved, pick up where you left off.',
    },
    { subject: 'Still thinking it over?', preheader: 'Here is a little something to help you decide.' },
    { subject: 'Your cart is about to expire', preheader: 'Your discount is waiting for you.' },
    { subject: 'Last chance for your cart', preheader: 'Our best offer, before your cart is gone.' },
  ],
  loyalty: [
    { subject: 'Welcome back: your cart is waiting', preheader: 'We saved your picks for you.' },
    { subject: 'A thank-you for coming back', preheader: 'A discount on the cart you left.' },
    {
      subject: 'Your favourites are still here',
      preheader: 'Complete your order with a loyal-customer discount.',
    },
    { subject: 'One last reminder', preheader: 'Your best discount yet, for a short time.' },
  ],
  premium: [
    { subject: 'Your selection is reserved', preheader: 'Complete your order whenever you are ready.' },
    {
      subject: 'Need a hand with your order?',
      preheader: 'Our team can help, and here is an offer for you.',
    },
    { subject: 'Your selection, with our compliments', preheader: 'An exclusive discount on your cart.' },
    { subject: 'A final offer on your selection', preheader: 'Our best offer, reserved for you.' },
  ],
};

/** Copy for touch `touch` (1-based); touches beyond the table reuse its last entry. */
export function touchCopy(segment: Segment, touch: number): Copy {
  const list = COPY[segment];
  return list[Math.min(touch, list.length) - 1]!;
}
