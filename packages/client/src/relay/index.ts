/** The relay client: HTTP API and the delivery / provisioning WebSockets. @module */
export * from './http.ts';
export * from './socket.ts';
