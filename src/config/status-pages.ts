import { z } from 'zod';

/**
 * `status_pages:` — public, read-only status pages, each showing one group of
 * services (served at /status/<slug>, data at /api/v1/status/<slug>). A page
 * shows nothing outside its `services`, and is readable without the API
 * token unless `public: false`.
 */
export const statusPageSchema = z.strictObject({
  title: z.string().min(1).max(200).meta({ description: 'Heading of the page' }),
  description: z.string().max(2000).optional().meta({ description: 'A line under the title' }),
  services: z
    .array(z.string().regex(/^[A-Za-z0-9_.-]+$/, 'use letters, digits, "_", "." and "-"'))
    .min(1)
    .max(500)
    .meta({ description: 'The services this page shows, in this order (services registered at run time may be named too)' }),
  public: z.boolean().default(true).meta({ description: 'false: readers need the token (the page asks for it)' }),
  token: z
    .string()
    .min(16, 'use at least 16 characters')
    .optional()
    .meta({ description: 'Token of this page when public is false (default: server.token); it opens this page only' }),
});

/** Page slug → page. The slug is the last part of the page's URL. */
export const statusPagesSchema = z
  .record(z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'use lower-case letters, digits and "-"'), statusPageSchema)
  .default({})
  .meta({ description: 'Public status pages, each showing one group of services: /status/<name>' });

export type StatusPageConfig = z.output<typeof statusPageSchema>;
export type StatusPagesConfig = z.output<typeof statusPagesSchema>;
