/**
 * Accounts: registration (creates device 1), who-am-I, username change and lookup.
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  ErrorCode,
  GoneAccountsRequest,
  GoneAccountsResponse,
  normalizeUsername,
  RegisterRequest,
  RegisterResponse,
  SetUsernameRequest,
  Username,
  UsernameResponse,
  WhoAmIResponse,
} from '@parley/protocol';
import { Type } from 'typebox';
import { deviceOf } from '../context.ts';
import { generateCredential, hashSecret } from '../credentials.ts';
import { notFound, RelayError } from '../errors.ts';
import { assertUniqueKeyIds } from './keys-validation.ts';
import { deviceAuth, errorResponses } from './schemas.ts';

const usernameTaken = () => new RelayError(409, ErrorCode.UsernameTaken, 'username is taken');

const accountsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { store, clock, config, audit } = app.relay;

  app.post(
    '/v1/accounts',
    {
      onRequest: app.rateLimitBy('registration', config.rateLimits.registration, (r) => r.ip),
      schema: {
        summary: 'Register an account with its first device (device 1)',
        tags: ['accounts'],
        body: RegisterRequest,
        response: { 201: RegisterResponse, ...errorResponses(400, 409, 413, 429) },
      },
    },
    async (request, reply) => {
      const body = request.body;
      assertUniqueKeyIds('preKeys', body.preKeys);
      assertUniqueKeyIds('pqPreKeys', body.pqPreKeys);
      const accountId = randomUUID();
      const username = normalizeUsername(body.username);
      const credential = generateCredential();
      const now = clock.now();
      const result = await store.createAccount(
        { accountId, username, identityKey: body.identityKey, createdAt: now },
        {
          credentialHash: hashSecret(credential),
          createdAt: now,
          keys: {
            registrationId: body.registrationId,
            ...(body.name === undefined ? {} : { name: body.name }),
            signedPreKey: body.signedPreKey,
            pqLastResortPreKey: body.pqLastResortPreKey,
            preKeys: body.preKeys,
            pqPreKeys: body.pqPreKeys,
          },
        },
      );
      if (result === 'username_taken') throw usernameTaken();
      audit('account.registered', { accountId, ip: request.ip });
      return reply.status(201).send({ accountId, deviceId: 1, credential, username });
    },
  );

  app.get(
    '/v1/accounts/me',
    {
      onRequest: app.authenticate,
      schema: {
        summary: 'The authenticated account and device',
        tags: ['accounts'],
        security: deviceAuth,
        response: { 200: WhoAmIResponse, ...errorResponses(401, 404) },
      },
    },
    async (request) => {
      const { accountId, deviceId } = deviceOf(request);
      const account = await store.getAccount(accountId);
      if (!account) throw notFound('account not found');
      return { accountId, deviceId, username: account.username, identityKey: account.identityKey };
    },
  );

  app.put(
    '/v1/accounts/me/username',
    {
      // A 409 tells whether a name is taken, so changes are limited like lookups: otherwise
      // this route would be the cheap way to enumerate usernames.
      onRequest: [
        app.authenticate,
        app.rateLimitBy(
          'username-change',
          config.rateLimits.usernameChange,
          (r) => deviceOf(r).accountId,
        ),
      ],
      schema: {
        summary: 'Change the username',
        tags: ['accounts'],
        security: deviceAuth,
        body: SetUsernameRequest,
        response: { 200: UsernameResponse, ...errorResponses(400, 401, 409, 429) },
      },
    },
    async (request) => {
      const { accountId } = deviceOf(request);
      const username = normalizeUsername(request.body.username);
      const now = clock.now();
      const hold = { now, until: now + config.usernameHoldMs };
      if ((await store.setUsername(accountId, username, hold)) === 'username_taken')
        throw usernameTaken();
      audit('username.changed', { accountId });
      return { accountId, username };
    },
  );

  app.get(
    '/v1/accounts/username/:username',
    {
      onRequest: [
        app.authenticate,
        app.rateLimitBy(
          'username-lookup',
          config.rateLimits.usernameLookup,
          (r) => deviceOf(r).accountId,
        ),
      ],
      schema: {
        summary: 'Find an account by username (case-insensitive)',
        tags: ['accounts'],
        security: deviceAuth,
        params: Type.Object({ username: Username }),
        response: { 200: UsernameResponse, ...errorResponses(400, 401, 404, 429) },
      },
    },
    async (request) => {
      const account = await store.getAccountByUsername(normalizeUsername(request.params.username));
      if (!account) throw notFound('no account has this username');
      return { accountId: account.accountId, username: account.username };
    },
  );

  app.post(
    '/v1/accounts/gone',
    {
      // Limited like username lookups (same budget, own counter): it only answers for ids the
      // caller already knows, which are random and cannot be enumerated.
      onRequest: [
        app.authenticate,
        app.rateLimitBy(
          'gone-lookup',
          config.rateLimits.usernameLookup,
          (r) => deviceOf(r).accountId,
        ),
      ],
      schema: {
        summary: 'Which of these accounts were deleted (a tombstone of the id is all that is kept)',
        tags: ['accounts'],
        security: deviceAuth,
        body: GoneAccountsRequest,
        response: { 200: GoneAccountsResponse, ...errorResponses(400, 401, 429) },
      },
    },
    async (request) => ({ gone: await store.goneAccounts(request.body.accountIds) }),
  );
};

export default accountsRoutes;
