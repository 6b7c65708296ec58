import { z } from 'zod';
import { PROBLEMS } from './app-error.js';

const codes = Object.keys(PROBLEMS) as [keyof typeof PROBLEMS, ...(keyof typeof PROBLEMS)[]];

export const Problem = z
  .object({
    type: z.string().meta({ example: 'urn:lede:problem:tag-not-found' }),
    title: z.string().meta({ example: 'Tag not found' }),
    status: z.number().int().min(400).max(599).meta({ example: 404 }),
    detail: z.string().meta({ example: 'No tag has the id or slug "rosiia".' }),
    code: z.enum(codes).meta({ description: 'Stable machine-readable error code' }),
    requestId: z.string().meta({ description: 'Quote it when reporting a problem' }),
    errors: z
      .array(
        z.object({
          path: z.string().meta({ example: 'body.name' }),
          message: z.string().meta({ example: 'Too small: expected string to have >=1 characters' }),
        }),
      )
      .optional()
      .meta({ description: 'One entry per invalid input field' }),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details' });

export type ProblemBody = z.infer<typeof Problem>;
