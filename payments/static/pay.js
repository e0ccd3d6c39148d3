/* The payment page's behaviour. The card goes from this page to Stripe only (Stripe.js); our
 * server is asked for nothing but the payment's status, which Stripe's webhook decides.
 * Our own words only: Stripe's error text is never shown. */
(function () {
  'use strict';
  var main = document.getElementById('main');
  var cfg = main.dataset;
  var statusBox = document.getElementById('status');
  var errorBox = document.getElementById('error');
  var paySection = document.getElementById('pay-section');
  var result = document.getElementById('result');
  var resultTitle = document.getElementById('result-title');
  var resultText = document.getElementById('result-text');
  var FINAL = ['succeeded', 'failed', 'expired', 'canceled'];

  function say(text) { statusBox.textContent = text; }

  function showError(text) {
    errorBox.textContent = text;
    errorBox.hidden = false;
  }

  // The expiry in the reader's own clock time (the server wrote UTC for browsers without script).
  var expiry = document.querySelector('#expiry time');
  if (expiry) {
    var at = new Date(expiry.getAttribute('datetime'));
    if (!isNaN(at)) { expiry.textContent = at.toLocaleTimeString([], {hour: 'numeric', minute: '2-digit'}); }
  }

  function finish(state, title, text) {
    main.dataset.state = state;
    if (expiry) { document.getElementById('expiry').hidden = true; }
    say('');
    errorBox.hidden = true;
    paySection.hidden = true;
    resultTitle.textContent = title;
    resultText.textContent = text;
    result.hidden = false;
    resultTitle.focus();
  }

  function sleep(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

  // Ask our server until the webhook has settled the payment, or give up after `limitMs`.
  async function settledStatus(limitMs) {
    var deadline = Date.now() + limitMs;
    while (Date.now() < deadline) {
      try {
        var response = await fetch(cfg.statusUrl, {cache: 'no-store', headers: {Accept: 'application/json'}});
        if (response.ok) {
          var body = await response.json();
          if (FINAL.indexOf(body.status) >= 0) { return body.status; }
        }
      } catch (err) { /* offline for a moment: keep asking */ }
      await sleep(1000);
    }
    return 'processing';
  }

  function showOutcome(status) {
    if (status === 'succeeded') {
      finish('succeeded', 'Thank you, your payment was received',
        'We received ' + cfg.amount + '. Your reference is ' + cfg.paymentId +
        '. You can close this page; we will also confirm in your conversation with us.');
    } else if (status === 'failed') {
      finish('declined', 'Your card was declined',
        'No money was taken. Go back to your conversation with us to try another card or another way to pay.');
    } else if (status === 'expired' || status === 'canceled') {
      finish(status, 'This payment was not completed',
        'No money was taken. Ask us for a new link in your conversation with us.');
    } else {
      finish('processing', 'Your payment is being processed',
        'It can take a few minutes. We will confirm it in your conversation with us. You can close this page.');
    }
  }

  if (cfg.state === 'choose') { return; }  // "save this card?" is a plain form: nothing to do yet

  if (!cfg.clientSecret) {
    // Already processing (opened again after paying): just wait for the result.
    say('Checking your payment…');
    settledStatus(30000).then(showOutcome);
    return;
  }

  var form = document.getElementById('pay-form');
  var button = document.getElementById('pay-button');
  var stripe;
  var card;
  try {
    stripe = Stripe(cfg.publishableKey);
    card = stripe.elements().create('card', {hidePostalCode: false});
    card.mount('#card-element');
  } catch (err) {
    button.disabled = true;
    showError('The card form could not load. Nothing was charged. Please reload this page in a minute.');
    return;
  }

  var submitting = false;
  form.addEventListener('submit', async function (event) {
    event.preventDefault();
    if (submitting) { return; }  // a double click pays once
    submitting = true;
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
    errorBox.hidden = true;
    say('Sending your payment securely. Please keep this page open.');

    var outcome;
    try {
      outcome = await stripe.confirmCardPayment(cfg.clientSecret, {payment_method: {card: card}});
    } catch (err) {
      outcome = {error: {type: 'api_connection_error'}};
    }
    var error = outcome && outcome.error;
    if (error) {
      if (error.type === 'card_error' || error.code === 'card_declined' || error.decline_code) {
        // Stripe reports the decline; its webhook settles our record. This link is used up.
        showOutcome('failed');
        return;
      }
      if (error.type === 'validation_error') {
        showError('Please check the card details and try again.');
      } else {
        showError('We could not reach the payment processor. Nothing was charged. Please try again in a minute.');
      }
      say('');
      submitting = false;
      button.disabled = false;
      button.removeAttribute('aria-busy');
      return;
    }
    say('Payment sent. Waiting for confirmation…');
    showOutcome(await settledStatus(30000));
  });
})();
