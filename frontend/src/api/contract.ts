/**
 * Compile-time checks (npm run type-check) that the hand-written wire types in types.ts name
 * the same fields as the server's OpenAPI schema (openapi.d.ts, from `npm run gen:api`).
 * If the server renames or drops a field, type-check fails here.
 */
import type { components } from './openapi'
import type { Mutation, MutationResult, PullResponse, PushResponse, TokenResponse, Me, Reference, StoredConflict, AttachmentInfo, AdminUser, AdminSession, NewUser } from './types'

type S = components['schemas']
type Same<A, B> = [Exclude<A, B>, Exclude<B, A>] extends [never, never] ? true : { missing: Exclude<B, A>; extra: Exclude<A, B> }
type Check<T extends true> = T

export type ContractChecks = [
  Check<Same<keyof Mutation, keyof S['MutationIn']>>,
  Check<Same<keyof MutationResult, keyof S['MutationResultOut']>>,
  Check<Same<keyof PushResponse, keyof S['PushOut']>>,
  Check<Same<keyof PullResponse, keyof S['PullOut']>>,
  Check<Same<keyof TokenResponse, keyof S['TokenOut']>>,
  Check<Same<keyof StoredConflict, keyof S['ConflictOut']>>,
  Check<Same<keyof AttachmentInfo, keyof S['AttachmentOut']>>,
  Check<Same<Exclude<keyof Me, never>, keyof S['MeOut']>>,
  Check<Same<keyof Reference, keyof S['ReferenceOut']>>,
  Check<Same<keyof AdminUser, keyof S['UserOut']>>,
  Check<Same<keyof AdminSession, keyof S['SessionOut']>>,
  Check<Same<keyof NewUser, keyof S['UserIn']>>,
]
