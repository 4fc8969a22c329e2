// tollgate/react: the paying fetch as a React hook (React 18 or 19, an optional peer dependency), its
// state live. The client entry itself imports no React.
export { usePayingFetch, type UsePayingFetchParameters, type UsePayingFetchReturnType } from "./usePayingFetch.js";
