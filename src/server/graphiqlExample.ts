/** What GraphiQL shows first: a runnable tour of the API (run them top to bottom). */
export const exampleQuery = `# Welcome to roomlog. Run these in order (pick one with the ▶ menu).
# 1. createSession, then put the token into the Headers tab:
#    { "Authorization": "Bearer <token>" }
mutation CreateSession {
  createSession(name: "ada") { token user { id name } expiresAt }
}

# 2. A room (add password: "..." for a private one); its creator joins it.
mutation CreateRoom {
  createRoom(name: "lobby") { id name headSeq }
}

# 3. Follow it live in this tab (subscriptions run over WebSocket)...
subscription Follow($roomId: ID!) {
  roomEvents(roomId: $roomId, afterSeq: 0) {
    seq at __typename
    ... on MessagePosted { message { id author { name } body } }
    ... on MessageEdited { messageId body }
    ... on MemberJoined { user { name } }
  }
}

# 4. ...and send from another tab. A retry with the same clientMessageId is a no-op.
mutation Send($roomId: ID!) {
  sendMessage(roomId: $roomId, body: "hello", clientMessageId: "first") { id seq body }
}

query History($roomId: ID!) {
  messages(roomId: $roomId, limit: 20) { seq author { name } body editedAt deleted }
}
`;
