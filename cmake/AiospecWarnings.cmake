# Our own targets build with every warning as an error; third-party code is untouched.
set(AIOSPEC_SANITIZE "" CACHE STRING "Sanitizers for our targets: empty, 'address,undefined' or 'thread'")

function(aiospec_target_defaults target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Wshadow -Wnon-virtual-dtor)
  if(AIOSPEC_SANITIZE)
    # -fno-sanitize-recover: a UBSan finding fails the test instead of scrolling by.
    target_compile_options(${target} PRIVATE -fsanitize=${AIOSPEC_SANITIZE} -fno-sanitize-recover=all -fno-omit-frame-pointer)
    target_link_options(${target} PRIVATE -fsanitize=${AIOSPEC_SANITIZE} -fno-sanitize-recover=all)
  endif()
endfunction()
