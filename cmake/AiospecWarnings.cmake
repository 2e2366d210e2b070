# Our own targets build with every warning as an error; third-party code is untouched.
set(AIOSPEC_SANITIZE "" CACHE STRING "Sanitizers for our targets: empty, 'address,undefined' or 'thread'")

function(aiospec_target_defaults target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Wshadow -Wnon-virtual-dtor)
  if(AIOSPEC_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=${AIOSPEC_SANITIZE} -fno-omit-frame-pointer)
    target_link_options(${target} PRIVATE -fsanitize=${AIOSPEC_SANITIZE})
  endif()
endfunction()
