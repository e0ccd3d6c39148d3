/* The payment page's behaviour. The card goes from this page to Stripe only (Stripe.js); our
 * server is asked for nothing but the payment's status, which Stripe's webhook decides.
 * Our own words only: Stripe's error text is never shown, but each cause Stripe reports (its
 * error `type` and `code`, https://docs.stripe.com/error-codes) gets its own sentence; only a
 * network failure says we could not reach the payment processor. */
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

  // Card details the customer can correct on this page (Stripe.js checks them before sending,
  // or Stripe refuses them without trying the card): say what to fix, keep the form.
  var FIX_TEXT = {
    incomplete_number: 'Your card number is incomplete. Please check it and try again.',
    invalid_number: 'That card number is not valid. Please check it and try again.',
    incorrect_number: 'That card number is not valid. Please check it and try again.',
    incomplete_expiry: 'The expiry date is incomplete. Please enter the month and year on your card.',
    invalid_expiry_month: 'The expiry month is not valid. Please enter it as on your card (01 to 12).',
    invalid_expiry_month_past: 'That expiry date is in the past. Please check the date on your card.',
    invalid_expiry_year: 'The expiry year is not valid. Please enter the year on your card.',
    invalid_expiry_year_past: 'That expiry year is in the past. Please check the year on your card.',
    incomplete_cvc: 'The security code is incomplete. It is the 3 or 4 digits on your card.',
    invalid_cvc: 'The security code is not valid. It is the 3 or 4 digits on your card.',
    incomplete_zip: 'The ZIP code is incomplete. Please enter the ZIP code of your billing address.',
    invalid_zip: 'The ZIP code is not valid. Please enter the ZIP code of your billing address.'
  };
  // Why Stripe declined a card it tried: the page is finished (the attempt is recorded).
  var DECLINE_TEXT = {
    insufficient_funds: 'Your bank declined the payment for insufficient funds.',
    expired_card: 'Your card has expired.',
    incorrect_cvc: 'The security code was not correct.',
    incorrect_zip: 'The ZIP code did not match your card.',
    lost_card: 'Your bank declined the card.',
    stolen_card: 'Your bank declined the card.',
    processing_error: 'There was a problem processing the card.',
    authentication_required: 'Your bank asked to confirm the payment, and it was not confirmed.',
    payment_intent_authentication_failure: 'Your bank asked to confirm the payment, and it was not confirmed.'
  };
  var DECLINE_CODES = ['card_declined', 'expired_card', 'incorrect_cvc', 'incorrect_zip', 'processing_error',
    'authentication_required', 'payment_intent_authentication_failure'];

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

  function showOutcome(status, reason) {
    if (status === 'succeeded') {
      finish('succeeded', 'Thank you, your payment was received',
        'We received ' + cfg.amount + '. Your reference is ' + cfg.paymentId +
        '. You can close this page; we will also confirm in your conversation with us.');
    } else if (status === 'failed') {
      finish('declined', 'Your card was declined',
        (reason ? reason + ' ' : '') +
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

  // The sentence for an error Stripe.js returned, and whether the page is finished by it.
  function explain(error) {
    var code = error.code || '';
    if (error.type === 'api_connection_error') {
      return {text: 'We could not reach the payment processor. Nothing was charged. ' +
        'Check your internet connection and try again.'};
    }
    if (error.type === 'card_error' || error.decline_code || DECLINE_CODES.indexOf(code) >= 0) {
      // Stripe tried the card and refused it; its webhook settles our record, so this link is
      // used up: say why, and finish.
      var fix = FIX_TEXT[code] ? FIX_TEXT[code].split('. ')[0] + '.' : '';
      return {declined: DECLINE_TEXT[error.decline_code] || DECLINE_TEXT[code] || fix};
    }
    // Refused before any card was tried (Stripe.js's own checks): fix it here and pay again.
    if (FIX_TEXT[code]) { return {text: FIX_TEXT[code]}; }
    if (error.type === 'validation_error' || error.type === 'invalid_request_error') {
      return {text: 'The payment processor did not accept these card details. Nothing was charged. ' +
        'Please check the card number, expiry date, security code and ZIP code.'};
    }
    if (error.type === 'rate_limit_error') {
      return {text: 'The payment processor is busy. Nothing was charged. Please try again in a minute.'};
    }
    return {text: 'The payment processor had a problem. Nothing was charged. Please try again in a minute.'};
  }

  var buttonText = button.textContent;
  function ready() {
    submitting = false;
    button.disabled = false;
    button.textContent = buttonText;
    button.removeAttribute('aria-busy');
  }

  var submitting = false;
  form.addEventListener('submit', async function (event) {
    event.preventDefault();
    if (submitting) { return; }  // a double click pays once
    submitting = true;
    button.disabled = true;
    button.textContent = 'Sending your payment…';
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
      var why = explain(error);
      if (why.declined !== undefined) {
        showOutcome('failed', why.declined);
        return;
      }
      say('');
      showError(why.text);
      ready();
      return;
    }
    // Paid: the form is gone for good (no second payment from this page), the outcome follows.
    form.remove();
    say('Payment sent. Waiting for confirmation…');
    showOutcome(await settledStatus(30000));
  });
})();
