/* Lakeside Bank web chat on the bank's own site. The whole snippet:
 *
 *   <div id="evenkeel-chat"></div>
 *   <script src="https://chat.example-bank.com/webhooks/webchat/embed.js" async></script>
 *
 * This script runs on the bank's page, so it does as little as it can: it puts the chat page
 * (served next to this file) in an iframe inside #evenkeel-chat. The chat keeps its own origin:
 * its session id and token, its socket and its Content-Security-Policy stay the chat server's,
 * and the host page can neither read the conversation nor reach into it. The chat server must
 * list the host page's origin in the web chat's `frame_ancestors` (bot/credentials*.yml), or the
 * browser refuses to show the frame. The element's size is the chat's size (at least 420 px high).
 */
(function () {
  "use strict";

  var ELEMENT_ID = "evenkeel-chat";
  var script = document.currentScript ||
    document.querySelector('script[src$="/webchat/embed.js"], script[src*="/webchat/embed.js?"]');
  if (!script || !script.src) { return; }
  var chatUrl = new URL("./", script.src).href; // the chat page sits next to this file

  function mount() {
    var host = document.getElementById(ELEMENT_ID);
    if (!host || host.querySelector("iframe[data-evenkeel-chat]")) { return; }
    var frame = document.createElement("iframe");
    frame.src = chatUrl;
    frame.title = "Chat with Lakeside Bank";
    frame.setAttribute("data-evenkeel-chat", "");
    frame.setAttribute("referrerpolicy", "no-referrer");
    frame.style.display = "block";
    frame.style.width = "100%";
    frame.style.height = "100%";
    frame.style.minHeight = "420px";
    frame.style.border = "0";
    host.appendChild(frame);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", mount);
  } else {
    mount();
  }
})();
