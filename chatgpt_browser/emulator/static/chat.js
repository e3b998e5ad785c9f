// A minimal chat UI over the real endpoints: session -> access token -> SSE stream.
(function () {
  "use strict";
  var form = document.getElementById("chat-form");
  var input = form.querySelector("textarea");
  var log = document.getElementById("thread");
  var conversationId = null;
  var parentId = crypto.randomUUID();
  function bubble(role, text) {
    var div = document.createElement("div");
    div.className = "message " + role;
    div.textContent = text;
    log.appendChild(div);
    return div;
  }
  async function send(text) {
    var session = await (await fetch("/api/auth/session", { credentials: "same-origin" })).json();
    if (!session.accessToken) { window.location.href = "/auth/login"; return; }
    bubble("user", text);
    var answer = bubble("assistant", "…");
    var body = {
      action: "next", model: "text-davinci-002-render", parent_message_id: parentId,
      messages: [{ id: crypto.randomUUID(), role: "user", content: { content_type: "text", parts: [text] } }]
    };
    if (conversationId) { body.conversation_id = conversationId; }
    var res = await fetch("/backend-api/conversation", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "text/event-stream",
                 "Authorization": "Bearer " + session.accessToken },
      body: JSON.stringify(body)
    });
    if (!res.ok) { answer.textContent = "Error " + res.status + ": " + (await res.text()); return; }
    var reader = res.body.getReader();
    var decoder = new TextDecoder();
    var buffer = "";
    for (;;) {
      var chunk = await reader.read();
      if (chunk.done) { break; }
      buffer += decoder.decode(chunk.value, { stream: true });
      var events = buffer.split("\n\n");
      buffer = events.pop();
      events.forEach(function (event) {
        var data = event.replace(/^data: /, "");
        if (data === "[DONE]") { return; }
        try {
          var parsed = JSON.parse(data);
          answer.textContent = parsed.message.content.parts[0];
          conversationId = parsed.conversation_id;
          parentId = parsed.message.id;
        } catch (e) { /* a malformed line: ignore, like the real UI */ }
      });
    }
  }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (text) { input.value = ""; send(text); }
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); form.requestSubmit(); }
  });
})();
