// The managed challenge: examine the browser, solve a SHA-256 proof of work with
// crypto.subtle, wait the minimum dwell time, then post the answer (or, in interactive
// mode, wait for a real click on the checkbox).
(function () {
  "use strict";
  var o = window._cf_chl_opt;
  if (!o || o.cFailed) { return; }
  var form = document.getElementById("challenge-form");
  function set(name, value) { form.elements[name].value = value; }
  function leadingZeroBits(bytes) {
    var bits = 0;
    for (var i = 0; i < bytes.length; i++) {
      if (bytes[i] === 0) { bits += 8; continue; }
      var b = bytes[i];
      while ((b & 0x80) === 0) { bits++; b <<= 1; }
      break;
    }
    return bits;
  }
  async function proofOfWork(salt, difficulty) {
    var enc = new TextEncoder();
    for (var n = 0; ; n++) {
      var digest = await crypto.subtle.digest("SHA-256", enc.encode(salt + ":" + n));
      if (leadingZeroBits(new Uint8Array(digest)) >= difficulty) { return n; }
    }
  }
  function brands() {
    try {
      var data = navigator.userAgentData;
      if (!data || !data.brands) { return "[]"; }
      return JSON.stringify(data.brands.map(function (b) { return b.brand + "/" + b.version; }));
    } catch (e) { return "[]"; }
  }
  async function run() {
    var started = Date.now();
    var nonce = await proofOfWork(o.cSalt, o.cDiff);
    set("wd", String(navigator.webdriver === true));
    set("ua", navigator.userAgent);
    set("br", brands());
    set("pw", String(nonce));
    var wait = Math.max(0, o.cDwell * 1000 - (Date.now() - started)) + 50;
    if (o.cType === "interactive") {
      var box = document.getElementById("cf-chl-widget");
      document.getElementById("cf-chl-widget-box").style.display = "block";
      box.addEventListener("click", function (event) {
        set("ck", event.isTrusted ? "trusted" : "untrusted");
        box.disabled = true;
        setTimeout(function () { form.submit(); }, wait);
      }, { once: true });
    } else {
      setTimeout(function () { form.submit(); }, wait);
    }
  }
  run();
})();
