/**
 * The only import of uWebSockets.js. The official package is not on npm; this fork ships the
 * same API with a Node 20 binary. Swap the package name here to move to the official one.
 */
import uws from '@trufflesuite/uws-js-unofficial';

export const { App, us_listen_socket_close: closeListenSocket, us_socket_local_port: localPort } = uws;
export type { HttpRequest, HttpResponse, TemplatedApp, us_listen_socket as ListenSocket, WebSocket } from '@trufflesuite/uws-js-unofficial';
