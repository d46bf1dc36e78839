/** What the landing page tells a person whose `POST /api/docs` was refused (the server's problem document, if any). */
export interface CreateProblem {
  code?: string;
  detail?: string;
}

/** The message for a refused creation of `name` (undefined: a generated name) answered with `status`. */
export function createErrorMessage(status: number, name: string | undefined, problem: CreateProblem | null): string {
  if (status === 409) return `“${name}” exists already. Open it through a share link from its owner, or pick another name.`;
  if (status === 401) return "On this server only its operators can create documents.";
  if (status === 403 && problem?.code === "too_many_documents") {
    return "You have created as many documents as this server allows one person. Reuse one of yours (see Recent), or ask the server's operator to raise the limit.";
  }
  if (status === 429) return "Too many requests from your address just now. Wait a moment and try again.";
  return `Could not create the document: ${problem?.detail ?? `the server answered ${status}`}.`;
}
